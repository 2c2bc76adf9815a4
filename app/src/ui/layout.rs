//! Header, navigation, language switch and footer around every page.

use leptos::prelude::*;

use super::format::url_encode;
use super::PageContext;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let t = ctx.t();
    let m = ctx.municipality.clone();
    let other = ctx.lang.other();
    let switch_href = format!("/idioma?lang={}&volver={}", other.code(), url_encode(&ctx.current));
    view! {
        <a class="skip-link" href="#contenido">{t.skip_to_content}</a>
        <header class="site-header">
            <a class="brand" href="/">
                <img src=m.logo.clone() alt="" width="40" height="40"/>
                <span>
                    <strong>{format!("{}, {}", m.name, m.state)}</strong>
                    <small>{t.portal_tagline}</small>
                </span>
            </a>
            <a class="lang-switch" data-testid="lang-switch" href=switch_href
                hreflang=other.code() lang=other.html_lang() aria-label=t.switch_language_label>
                {t.switch_language}
            </a>
        </header>
        <nav class="site-nav" aria-label="Principal">
            <a href="/">{t.nav_home}</a>
            <a href="/consulta">{t.nav_lookup}</a>
            <a href="/tramites" data-testid="nav-catalogue">{t.nav_catalogue}</a>
            <a href="/recibos">{ctx.lang.pick("Mis recibos", "My receipts")}</a>
        </nav>
        <main id="contenido" tabindex="-1">{children()}</main>
        <footer class="site-footer">
            <p>{t.footer}</p>
            <p>{m.office_hours.clone()}</p>
        </footer>
    }
}

/// Any address the portal does not know: a real 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let ctx = expect_context::<PageContext>();
    let t = ctx.t();
    view! {
        <leptos_meta::Title text=t.not_found_title/>
        <h1>{t.not_found_title}</h1>
        <p>{t.not_found_body}</p>
        <p><a href="/">{t.nav_home}</a></p>
    }
}
