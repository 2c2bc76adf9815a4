//! What every page needs to know about the request and the municipality.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::domain::municipality::Municipality;
use crate::i18n::{Lang, Texts};

/// Per-request page context: language, today's date, the municipality and
/// the current URL (for the language switch).
#[derive(Clone, Debug)]
pub struct PageContext {
    pub lang: Lang,
    pub today: NaiveDate,
    pub municipality: Arc<Municipality>,
    /// Path and query of the current request, e.g. `/consulta?cuenta=P-1`.
    pub current: String,
}

impl PageContext {
    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// The first value of query parameter `name` of the current request,
    /// decoded (`application/x-www-form-urlencoded`).
    pub fn param(&self, name: &str) -> Option<String> {
        let (_, query) = self.current.split_once('?')?;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// Builds the context from the request being rendered.
    #[cfg(feature = "ssr")]
    pub fn from_request() -> Self {
        use leptos::prelude::*;
        let state = expect_context::<crate::state::AppState>();
        match use_context::<axum::http::request::Parts>() {
            Some(p) => Self::for_request(&state, &p.uri, &p.headers),
            None => Self::for_request(&state, &axum::http::Uri::from_static("/"), &axum::http::HeaderMap::new()),
        }
    }

    /// The context of a request: the language from `?lang=` or the
    /// language cookie (every `Cookie` header is read), today, the current
    /// path and query.
    #[cfg(feature = "ssr")]
    pub fn for_request(state: &crate::state::AppState, uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Self {
        let query_lang =
            uri.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=").and_then(Lang::parse)));
        let cookie_lang = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .find_map(Lang::from_cookie_header);
        PageContext {
            lang: query_lang.or(cookie_lang).unwrap_or_default(),
            today: state.clock.today(),
            municipality: state.municipality.clone(),
            current: uri.path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_else(|| "/".into()),
        }
    }
}

/// A page rendered on the server from one route parameter (`:folio`,
/// `:reference`…): `render` receives its value (empty when absent) and
/// answers the page's view. The route components are one line each.
pub fn from_route_param<Fut>(param: &'static str, render: fn(String) -> Fut) -> impl leptos::prelude::IntoView
where
    Fut: std::future::Future<Output = leptos::prelude::AnyView> + Send + 'static,
{
    use leptos::prelude::*;
    let params = leptos_router::hooks::use_params_map();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(render(params.read().get(param).unwrap_or_default()))}
        </Suspense>
    }
}
