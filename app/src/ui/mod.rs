//! The pages. They render on the server; only the islands in [`islands`]
//! ship WebAssembly.

pub mod caja_pages;
mod catalogue_page;
pub mod debts;
pub mod error_page;
mod format;
pub mod garbage_pages;
mod home;
pub mod islands;
mod layout;
pub mod licence_pages;
mod lookup_page;
mod order_page;
mod page;
pub mod permit_pages;
mod receipt_page;
pub mod reconciliation_pages;
pub mod staff_pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

pub use page::PageContext;

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_context(page::PageContext::from_request());
    let ctx = expect_context::<PageContext>();
    #[cfg(feature = "ssr")]
    set_page_csp();
    let theme =
        format!(":root{{--primary:{};--accent:{}}}", ctx.municipality.colors.primary, ctx.municipality.colors.accent);
    view! {
        <!DOCTYPE html>
        <html lang=ctx.lang.html_lang()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="stylesheet" id="leptos" href="/pkg/recauda.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <style nonce=leptos::nonce::use_nonce()>{theme}</style>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Pages get a Content-Security-Policy that allows only this request's
/// inline scripts (Leptos' hydration loader) and styles, by nonce.
#[cfg(feature = "ssr")]
fn set_page_csp() {
    use axum::http::{header, HeaderValue};
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Routes of the portal. Routes whose HTTP status depends on data (the lookup
/// answers 400/404/429) render in `SsrMode::Async`, so the status is known
/// before the first byte is sent.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let ctx = expect_context::<PageContext>();
    let description = match ctx.lang {
        crate::i18n::Lang::Es => format!(
            "Consulte y pague en línea sus adeudos con el Municipio de {}: predial, agua, licencias y multas, con los \
             descuentos vigentes y recibo oficial verificable.",
            ctx.municipality.name
        ),
        crate::i18n::Lang::En => format!(
            "Look up and pay online what you owe the Municipality of {}: property tax, water, licences and fines, \
             with the discounts in force and a verifiable official receipt.",
            ctx.municipality.name
        ),
    };
    view! {
        <leptos_meta::Meta name="description" content=description/>
        <Router>
            <layout::Layout>
                <Routes fallback=layout::NotFound>
                    <Route path=StaticSegment("") view=home::HomePage/>
                    <Route path=StaticSegment("consulta") view=lookup_page::LookupPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("tramites") view=catalogue_page::CataloguePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("tramites"), ParamSegment("slug")) view=catalogue_page::ProcedurePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("orden"), ParamSegment("token")) view=order_page::OrderPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("prueba"), StaticSegment("pago"), ParamSegment("token")) view=order_page::DemoCheckoutPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("v"), ParamSegment("folio")) view=receipt_page::VerifyPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("recibo"), ParamSegment("folio")) view=receipt_page::ReceiptPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("recibos") view=receipt_page::MyReceiptsPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("verificar") view=receipt_page::CheckDeskPage ssr=SsrMode::Async/>
                </Routes>
            </layout::Layout>
        </Router>
    }
}
