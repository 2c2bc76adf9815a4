//! How an [`AppError`] looks on a page: the error summary (announced,
//! focused on load, linking to the field it is about), and the whole error
//! page inside the site layout that the HTTP boundary answers with when a
//! form, a route or a limit refuses a request.

use leptos::prelude::*;

use super::PageContext;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::i18n::Lang;

/// The error summary of a page. `title` heads it (the page says what it is
/// about); a rate limit says so instead.
#[component]
pub fn ErrorSummary(
    err: AppError,
    title: &'static str,
    #[prop(optional)] default_field: Option<&'static str>,
) -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let lang = ctx.lang;
    let href = err.field.clone().or(default_field.map(str::to_string)).map(|f| format!("#{f}"));
    let rate_limited = err.is_rate_limited();
    let heading = if rate_limited { ctx.t().rate_limited_title } else { title };
    let message = err.message(lang).to_string();
    view! {
        <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="error-summary"
            data-code=err.code.clone() aria-labelledby="error-summary-title">
            <h2 id="error-summary-title">{heading}</h2>
            <ul>
                <li>{match href {
                    Some(href) => view! { <a href=href>{message}</a> }.into_any(),
                    None => view! { <span>{message}</span> }.into_any(),
                }}</li>
            </ul>
            {err.hint(lang).map(|h| view! { <p class="hint" data-testid="rfc-check-hint">{h.to_string()}</p> })}
            {rate_limited.then(|| view! {
                <p data-testid="rate-limited">{err.retry_after.map(|s| format!("Retry-After: {s} s"))}</p>
            })}
        </div>
    }
}

/// The body of the error page: the summary and a way back.
#[cfg(feature = "ssr")]
#[component]
fn ErrorBody(err: AppError) -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let lang = ctx.lang;
    let back = err.back.clone().unwrap_or_else(|| "/".into());
    let back_label = if back.starts_with("/orden/") {
        lang.pick("Volver a la orden de pago", "Back to the payment order")
    } else if back.starts_with("/consulta") {
        lang.pick("Volver a consultar sus adeudos", "Look up your debts again")
    } else {
        lang.pick("Volver", "Go back")
    };
    view! {
        <h1>{page_title(&err, lang)}</h1>
        <ErrorSummary err=err title=lang.pick("Hay un problema con su solicitud", "There is a problem with your request")/>
        <p><a class="button secondary" href=back data-testid="error-back">{back_label}</a></p>
    }
}

#[cfg(feature = "ssr")]
fn page_title(err: &AppError, lang: Lang) -> &'static str {
    match err.status {
        429 => lang.pick("Demasiadas solicitudes", "Too many requests"),
        403 => lang.pick("Solicitud rechazada", "Request refused"),
        404 => lang.pick("No encontrado", "Not found"),
        503 => lang.pick("Servicio no disponible", "Service unavailable"),
        _ => lang.pick("Hay un problema con su solicitud", "There is a problem with your request"),
    }
}

/// The whole error page, inside the site layout (header, navigation,
/// language switch, footer), as the HTTP boundary sends it. No script: it
/// needs none.
#[cfg(feature = "ssr")]
pub fn error_document(ctx: PageContext, err: &AppError) -> String {
    fn escape(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    }
    let owner = Owner::new();
    let (lang, title) = (ctx.lang, page_title(err, ctx.lang));
    let body = owner.with(|| {
        provide_context(ctx);
        let err = err.clone();
        view! { <super::layout::Layout><ErrorBody err=err/></super::layout::Layout> }.to_html()
    });
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <meta name=\"color-scheme\" content=\"light\"/><meta name=\"robots\" content=\"noindex\"/>\
         <link rel=\"stylesheet\" href=\"/pkg/recauda.css\"/><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"/>\
         <title>{} — Recauda</title></head><body>{body}</body></html>",
        lang.html_lang(),
        escape(title),
    )
}
