//! Receipt pages, rendered on the server (no JavaScript needed):
//!
//! * `/v/{folio}?s=…` — the verification page anyone reaches by scanning
//!   the QR code: authentic (green, with the amounts to compare), altered or
//!   forged (red), cancelled (grey, with the reason), unknown.
//! * `/recibo/{folio}?s=…` — the printable receipt (print CSS) with its QR
//!   code and the PDF links; `s` is the receipt's own signature, which only
//!   the payer's links (success page, "mis recibos", the QR) carry.
//! * `/recibos?cuenta=…&folio=…` — "mis recibos": a receipt found again by
//!   account and folio.

use super::page::from_route_param;
use leptos::prelude::*;

#[component]
pub fn VerifyPage() -> impl IntoView {
    from_route_param("folio", ssr::verify_page)
}

#[component]
pub fn ReceiptPage() -> impl IntoView {
    from_route_param("folio", ssr::receipt_page)
}

#[component]
pub fn CheckDeskPage() -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { ssr::check_desk_page().await })}
        </Suspense>
    }
}

#[component]
pub fn MyReceiptsPage() -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { ssr::my_receipts_page().await })}
        </Suspense>
    }
}

#[cfg(not(feature = "ssr"))]
mod ssr {
    use leptos::prelude::*;

    // Pages render on the server only (islands): nothing to do in the browser.
    pub async fn verify_page(_folio: String) -> AnyView {
        ().into_any()
    }

    pub async fn receipt_page(_folio: String) -> AnyView {
        ().into_any()
    }

    pub async fn my_receipts_page() -> AnyView {
        ().into_any()
    }

    pub async fn check_desk_page() -> AnyView {
        ().into_any()
    }
}

#[cfg(feature = "ssr")]
pub(super) mod ssr {

    use axum::http::StatusCode;
    use leptos::prelude::*;
    use leptos_meta::Title;

    use super::super::debts::{Columns, DebtLine, DebtsTable};
    use super::super::format;
    use super::super::PageContext;
    use crate::domain::account::AccountNumber;
    use crate::domain::folio::Folio;
    use crate::domain::money::Centavos;
    use crate::domain::words::amount_in_words;
    use crate::i18n::Lang;
    use crate::receipts::{self, PublicReceipt, VerdictKind};
    use crate::state::AppState;
    use crate::store::{Receipt, ReceiptStatus};

    fn set_status(status: StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }

    fn not_found() -> AnyView {
        view! { <super::super::layout::NotFound/> }.into_any()
    }

    fn unavailable(lang: Lang) -> AnyView {
        set_status(StatusCode::SERVICE_UNAVAILABLE);
        view! {
            <h1>{lang.pick("Servicio no disponible", "Service unavailable")}</h1>
            <p>{lang.pick("Intente más tarde.", "Please try again later.")}</p>
        }
        .into_any()
    }

    /// The QR code of `url` as inline SVG (error correction M, 4-module quiet zone).
    pub(crate) fn qr_svg(url: &str) -> String {
        use qrcode::render::svg;
        match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
            Ok(code) => code
                .render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .dark_color(svg::Color("#000000"))
                .light_color(svg::Color("#ffffff"))
                .quiet_zone(true)
                .build(),
            Err(_) => String::new(),
        }
    }

    // ---------------------------------------------------------------- /v/{folio}

    pub async fn verify_page(folio: String) -> AnyView {
        let ctx = expect_context::<PageContext>();
        let state = expect_context::<AppState>();
        let lang = ctx.lang;
        let s = ctx.param("s").unwrap_or_default();
        let outcome = match receipts::check(&state, &folio, &s).await {
            Ok(v) => v,
            Err(_) => return unavailable(lang),
        };
        if outcome.kind == VerdictKind::Unknown {
            set_status(StatusCode::NOT_FOUND);
        }
        let (title, body, icon) = (outcome.kind.title(lang), outcome.kind.explanation(lang), outcome.kind.icon());
        let kind = outcome.kind.as_str();
        let folio_shown = folio.trim().to_uppercase();
        view! {
            <Title text=format!("{title} — {folio_shown}")/>
            <h1>{lang.pick("Verificación de recibo", "Receipt verification")}</h1>
            <section class=format!("verdict verdict-{kind}") role="status" data-testid="verdict" data-verdict=kind>
                <h2><span class="verdict-icon" aria-hidden="true">{icon}</span>" "{title}</h2>
                <p>{body}</p>
                <p class="muted">{lang.pick("Folio", "Folio")}": "<strong data-testid="verdict-folio">{folio_shown}</strong></p>
                {outcome.cancel_reason.map(|r| view! {
                    <p data-testid="cancel-reason"><strong>{lang.pick("Motivo", "Reason")}": "</strong>{r}</p>
                })}
                {outcome.receipt.map(|r| public_facts(r, lang))}
            </section>
            <p><a href="/recibos">{lang.pick("Buscar mis recibos", "Find my receipts")}</a></p>
        }
        .into_any()
    }

    fn public_facts(r: PublicReceipt, lang: Lang) -> impl IntoView {
        let lines: Vec<DebtLine> = r
            .items
            .into_iter()
            .map(|i| DebtLine {
                selectable: None,
                account: None,
                concept: i.concept,
                period: i.period,
                due_date: None,
                months_late: 0,
                principal: i.total,
                recargos: Centavos::ZERO,
                discount: Centavos::ZERO,
                discounts: Vec::new(),
                total: i.total,
            })
            .collect();
        view! {
            <dl class="order-head" data-testid="verified-facts">
                <div><dt>{lang.pick("Fecha de emisión", "Issued on")}</dt><dd>{format::date(r.issued_on, lang)}</dd></div>
                <div><dt>{lang.pick("Cuenta", "Account")}</dt><dd data-testid="verified-account">{r.account}</dd></div>
                <div><dt>{lang.pick("Contribuyente", "Taxpayer")}</dt><dd>{r.payer}</dd></div>
                <div><dt>{lang.pick("Forma de pago", "Payment method")}</dt><dd>{receipts::method_label(r.method, lang)}</dd></div>
                <div class="grand"><dt>{lang.pick("Total pagado", "Total paid")}</dt><dd data-testid="verified-total">{r.total.display_mxn()}</dd></div>
            </dl>
            <DebtsTable lines=lines columns=Columns::default() lang=lang row_testid="verified-item"/>
        }
    }

    // ----------------------------------------------------------- /recibo/{folio}

    pub async fn receipt_page(folio: String) -> AnyView {
        let ctx = expect_context::<PageContext>();
        let state = expect_context::<AppState>();
        let lang = ctx.lang;
        let s = ctx.param("s");
        let receipt = match Folio::parse(&folio) {
            Err(_) => return not_found(),
            Ok(f) => match receipts::receipt_by_folio(&state, &f).await {
                Ok(Some(r)) if s.as_deref().is_some_and(|s| receipts::opens(&r, s)) => r,
                Ok(_) => return not_found(),
                Err(_) => return unavailable(lang),
            },
        };
        let order = match state.store.get_order(receipt.order_id).await {
            Ok(o) => o,
            Err(_) => return unavailable(lang),
        };
        render_receipt(&ctx, &state, receipt, order, lang)
    }

    fn render_receipt(
        ctx: &PageContext,
        state: &AppState,
        r: Receipt,
        order: Option<crate::store::Order>,
        lang: Lang,
    ) -> AnyView {
        let m = ctx.municipality.clone();
        let tz = state.clock.timezone();
        let local = r.issued_at.with_timezone(&tz);
        let issued = format!("{} {} ({})", format::date(local.date_naive(), lang), local.format("%H:%M h"), tz.name());
        let verify_url = receipts::verify_url(state, &r).unwrap_or_default();
        let verify_path = receipts::verify_path(&r).unwrap_or_default();
        let s = r.signature.clone().unwrap_or_default();
        let folio = r.folio.to_string();
        let pdf = |papel: &str| format!("/recibo/{folio}/pdf?papel={papel}&s={s}");
        let (pdf_letter, pdf_ticket) = (pdf("carta"), pdf("ticket"));
        let qr = qr_svg(&verify_url);
        let rounding = order.as_ref().map(|o| o.rounding).filter(|c| c.0 != 0);
        let lines: Vec<DebtLine> = order
            .map(|o| o.items)
            .unwrap_or_default()
            .into_iter()
            .map(|i| DebtLine {
                selectable: None,
                account: None,
                concept: format!(
                    "{} · {}",
                    m.concept(&i.concept).map(|c| lang.pick(&c.name_es, &c.name_en).to_string()).unwrap_or(i.concept),
                    i.account
                ),
                period: i.period,
                due_date: None,
                months_late: 0,
                principal: i.principal,
                recargos: i.recargos,
                discount: i.discount,
                discounts: Vec::new(),
                total: i.total,
            })
            .collect();
        let cancelled = match &r.status {
            ReceiptStatus::Valid => None,
            ReceiptStatus::Cancelled { reason, .. } => Some(reason.clone()),
        };
        let demo = r.is_demo();
        let method = receipts::method_label(r.method, lang);
        let words = amount_in_words(r.total);
        view! {
            <Title text=format!("{} {folio}", lang.pick("Recibo oficial", "Official receipt"))/>
            <nav class="no-print receipt-actions" aria-label=lang.pick("Descargas", "Downloads")>
                <a class="button" href=pdf_letter data-testid="receipt-pdf-letter">{lang.pick("Descargar PDF (carta)", "Download PDF (letter)")}</a>
                <a class="button secondary" href=pdf_ticket data-testid="receipt-pdf-ticket">{lang.pick("PDF para ticket de 80 mm", "PDF for 80 mm ticket")}</a>
                <a class="button secondary" href=verify_path.clone() data-testid="receipt-verify-link">{lang.pick("Verificar", "Verify")}</a>
                <p class="muted small">{lang.pick("Para imprimir esta página use la opción Imprimir de su navegador.", "To print this page use your browser's Print option.")}</p>
            </nav>
            <article class="receipt card" data-testid="receipt" data-folio=folio.clone()>
                {cancelled.clone().map(|reason| view! {
                    <p class="receipt-cancelled" role="note" data-testid="receipt-cancelled">
                        <strong>{lang.pick("CANCELADO", "CANCELLED")}</strong>" — "{reason}
                    </p>
                })}
                {demo.then(|| view! {
                    <p class="demo-banner" role="note" data-testid="demo-banner"><strong>{VerdictKind::Demo.title(lang)}". "</strong>{VerdictKind::Demo.explanation(lang)}</p>
                })}
                <header class="receipt-head">
                    <img src=m.logo.clone() alt="" width="56" height="56"/>
                    <div>
                        <p class="receipt-municipality">{format!("{} {}", lang.pick("Municipio de", "Municipality of"), m.name)}</p>
                        <p class="muted">{m.state.clone()}" · "{m.address.clone()}</p>
                    </div>
                    <div class="receipt-folio">
                        <p class="receipt-title">{lang.pick("RECIBO OFICIAL DE PAGO", "OFFICIAL PAYMENT RECEIPT")}</p>
                        <p>{lang.pick("Folio", "Folio")}" "<strong data-testid="receipt-folio">{folio.clone()}</strong></p>
                        <p class="muted small">{issued}</p>
                    </div>
                </header>
                <dl class="order-head">
                    <div><dt>{lang.pick("Contribuyente", "Taxpayer")}</dt><dd data-testid="receipt-payer">{r.payer_name.clone()}</dd></div>
                    <div><dt>{lang.pick("Cuenta", "Account")}</dt><dd data-testid="receipt-account">{r.account.clone()}</dd></div>
                </dl>
                <DebtsTable lines=lines columns=Columns { due_date: false, ..Columns::FULL } lang=lang row_testid="receipt-item"/>
                <dl class="totals">
                    {rounding.map(|c| view! { <div><dt>{lang.pick("Redondeo", "Rounding")}</dt><dd>{c.display_mxn()}</dd></div> })}
                    <div class="grand"><dt>{lang.pick("Total", "Total")}</dt><dd data-testid="receipt-total">{r.total.display_mxn()}</dd></div>
                </dl>
                <p class="receipt-words" data-testid="receipt-words">{words}</p>
                <div class="receipt-foot">
                    <div class="receipt-qr" data-testid="receipt-qr" inner_html=qr></div>
                    <dl>
                        <div><dt>{lang.pick("Forma de pago", "Payment method")}</dt><dd>{method}</dd></div>
                        <div><dt>{lang.pick("Referencia", "Reference")}</dt><dd class="small">{r.provider_reference.clone().unwrap_or_default()}</dd></div>
                        <div><dt>{lang.pick("Verifique este recibo escaneando el código o en:", "Verify this receipt by scanning the code or at:")}</dt>
                            <dd class="small verify-url"><a href=verify_path data-testid="receipt-verify-url">{verify_url.clone()}</a></dd></div>
                    </dl>
                </div>
            </article>
        }
        .into_any()
    }

    // ----------------------------------------------------------------- /verificar

    /// The cashier desk's check: the QR link plus the printed facts, checked
    /// against the published keys — by the server when the form is sent,
    /// and live in the browser (no network) by the `OfflineCheck` island.
    pub async fn check_desk_page() -> AnyView {
        use super::super::islands::{offline_check, OfflineCheck};
        let ctx = expect_context::<PageContext>();
        let state = expect_context::<AppState>();
        let lang = ctx.lang;
        let get = |name: &str| ctx.param(name).unwrap_or_default();
        let (url, total, fecha, cuenta) = (get("url"), get("total"), get("fecha"), get("cuenta"));
        let keyring = serde_json::json!({ "keys": state.receipt_keys.keyring() }).to_string();
        let submitted = [&url, &total, &fecha, &cuenta].iter().any(|f| !f.is_empty());
        let outcome = offline_check(&url, &total, &fecha, &cuenta, &keyring, lang);
        if submitted && outcome.is_none() {
            set_status(StatusCode::BAD_REQUEST);
        }
        let title = lang.pick("Verificar un recibo", "Check a receipt");
        view! {
            <Title text=title/>
            <h1>{title}</h1>
            <p class="lead">{lang.pick(
                "Para la ventanilla: compare el código QR con los datos impresos en el recibo. Una vez abierta, esta página verifica sin conexión a internet.",
                "For the cashier desk: compare the QR code with the details printed on the receipt. Once open, this page checks with no internet connection.")}</p>
            {(submitted && outcome.is_none()).then(|| view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="error-summary">
                    <h2>{lang.pick("Faltan datos", "Missing details")}</h2>
                    <p>{lang.pick("Escriba el enlace, el total, la fecha y la cuenta.", "Enter the link, the total, the date and the account.")}</p>
                </div>
            })}
            {outcome.map(|o| {
                let (kind, headline) = if o.authentic {
                    ("authentic", lang.pick("✔ La firma corresponde a estos datos", "✔ The signature matches these details"))
                } else if o.demo {
                    ("demo", lang.pick("⚠ Recibo de demostración — sin validez", "⚠ Demonstration receipt — no legal value"))
                } else {
                    ("forged", lang.pick("✖ La firma no corresponde", "✖ The signature does not match"))
                };
                view! {
                    <section class=format!("verdict verdict-{kind}") role="status" data-testid="verdict" data-verdict=kind>
                        <h2>{headline}</h2>
                        <p>{o.message}</p>
                    </section>
                }
            })}
            <form method="get" action="/verificar" class="card lookup-form">
                <OfflineCheck lang=lang keyring=keyring url=url total=total fecha=fecha cuenta=cuenta/>
                <button type="submit" data-testid="check-submit">{lang.pick("Verificar", "Check")}</button>
            </form>
        }
        .into_any()
    }

    // ------------------------------------------------------------------ /recibos

    pub async fn my_receipts_page() -> AnyView {
        let ctx = expect_context::<PageContext>();
        let state = expect_context::<AppState>();
        let lang = ctx.lang;
        let typed = ctx.param("cuenta").unwrap_or_default();
        let folio = ctx.param("folio").map(|s| s.trim().to_uppercase()).unwrap_or_default();
        let importe = ctx.param("importe").map(|s| s.trim().to_string()).unwrap_or_default();
        let asked = !typed.trim().is_empty() || !folio.is_empty() || !importe.is_empty();
        let mut errors: Vec<(&'static str, String)> = Vec::new();
        let mut found: Option<Receipt> = None;
        // The account number, normalised as everywhere else.
        let account = AccountNumber::parse(&typed);
        let cuenta = account.as_ref().map(|a| a.to_string()).unwrap_or_else(|_| typed.trim().to_string());
        if asked {
            if let Err(e) = &account {
                errors.push(("cuenta", lang.pick(&e.message_es(), &e.message_en()).to_string()));
            }
            let parsed = if folio.is_empty() {
                errors.push(("folio", lang.pick("Escriba el folio del recibo.", "Enter the receipt's folio.").into()));
                None
            } else {
                match Folio::parse(&folio) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        errors.push(("folio", lang.pick(e.message_es(), e.message_en()).into()));
                        None
                    }
                }
            };
            // The total printed on the receipt: with the account and the
            // folio, what only its holder knows (folios are sequential and
            // account numbers are printed on every bill, so those two alone
            // would open anybody's receipt).
            let total = if importe.is_empty() {
                errors.push((
                    "importe",
                    lang.pick("Escriba el importe total del recibo.", "Enter the receipt's total.").into(),
                ));
                None
            } else {
                match Centavos::parse_printed(&importe) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        errors.push(("importe", lang.pick(e.message_es(), e.message_en()).into()));
                        None
                    }
                }
            };
            if let (Some(f), Some(total), true) = (parsed, total, errors.is_empty()) {
                match receipts::receipt_by_folio(&state, &f).await {
                    Err(_) => return unavailable(lang),
                    Ok(r) => {
                        let belongs = match &r {
                            Some(r) if r.total == total => match state.store.get_order(r.order_id).await {
                                Ok(Some(o)) => o.items.iter().any(|i| i.account == cuenta),
                                Ok(None) => false,
                                Err(_) => return unavailable(lang),
                            },
                            _ => false,
                        };
                        if belongs {
                            found = r;
                        } else {
                            set_status(StatusCode::NOT_FOUND);
                            errors.push((
                                "folio",
                                lang.pick(
                                    "No encontramos un recibo con esos datos. Revise la cuenta, el folio y el importe en su recibo.",
                                    "We found no receipt with those details. Check the account, the folio and the total on your receipt.",
                                )
                                .into(),
                            ));
                        }
                    }
                }
            } else {
                set_status(StatusCode::BAD_REQUEST);
            }
        }
        let field_error = |field: &str| errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone());
        let (cuenta_error, folio_error, importe_error) =
            (field_error("cuenta"), field_error("folio"), field_error("importe"));
        let title = lang.pick("Mis recibos", "My receipts");
        view! {
            <Title text=if errors.is_empty() { title.to_string() } else { format!("{} — {title}", lang.pick("Revise los datos", "Check the details")) }/>
            <h1>{title}</h1>
            {(!errors.is_empty()).then(|| view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="error-summary" aria-labelledby="error-summary-title">
                    <h2 id="error-summary-title">{lang.pick("Revise los datos", "Check the details")}</h2>
                    <ul>{errors.iter().map(|(f, m)| view! { <li><a href=format!("#{f}")>{m.clone()}</a></li> }).collect_view()}</ul>
                </div>
            })}
            {found.map(|r| found_receipt(&r, lang))}
            <form method="get" action="/recibos" class="card lookup-form">
                <p class="lead">{lang.pick(
                    "Vuelva a descargar un recibo con el número de cuenta, el folio y el importe impresos en él.",
                    "Download a receipt again with the account number, the folio and the total printed on it.")}</p>
                <label for="cuenta">{lang.pick("Número de cuenta", "Account number")}</label>
                {cuenta_error.clone().map(|e| view! { <p id="cuenta-error" class="field-error">{e}</p> })}
                <input id="cuenta" name="cuenta" type="text" value=cuenta autocomplete="off" autocapitalize="characters"
                    spellcheck="false" maxlength="32" aria-invalid=cuenta_error.is_some().to_string()
                    aria-describedby=cuenta_error.is_some().then_some("cuenta-error") data-testid="receipts-account"/>
                <label for="folio">{lang.pick("Folio del recibo", "Receipt folio")}</label>
                <p id="folio-help" class="help">{lang.pick("Por ejemplo A-2026-000123", "For example A-2026-000123")}</p>
                {folio_error.clone().map(|e| view! { <p id="folio-error" class="field-error">{e}</p> })}
                <input id="folio" name="folio" type="text" value=folio autocomplete="off" autocapitalize="characters"
                    spellcheck="false" maxlength="20" aria-invalid=folio_error.is_some().to_string()
                    aria-describedby=if folio_error.is_some() { "folio-help folio-error" } else { "folio-help" }
                    data-testid="receipts-folio"/>
                <label for="importe">{lang.pick("Importe total pagado", "Total paid")}</label>
                <p id="importe-help" class="help">{lang.pick("Como aparece en el recibo, por ejemplo $1,234.50", "As printed on the receipt, for example $1,234.50")}</p>
                {importe_error.clone().map(|e| view! { <p id="importe-error" class="field-error">{e}</p> })}
                <input id="importe" name="importe" type="text" value=importe inputmode="decimal" autocomplete="off"
                    spellcheck="false" maxlength="20" aria-invalid=importe_error.is_some().to_string()
                    aria-describedby=if importe_error.is_some() { "importe-help importe-error" } else { "importe-help" }
                    data-testid="receipts-total"/>
                <button type="submit" data-testid="receipts-submit">{lang.pick("Buscar recibo", "Find receipt")}</button>
            </form>
        }
        .into_any()
    }

    fn found_receipt(r: &Receipt, lang: Lang) -> impl IntoView {
        let s = r.signature.clone().unwrap_or_default();
        let folio = r.folio.to_string();
        let cancelled = matches!(r.status, ReceiptStatus::Cancelled { .. });
        view! {
            <section class="notice success" role="status" data-testid="receipt-found">
                <h2>{lang.pick("Recibo", "Receipt")}" "{folio.clone()}</h2>
                <p>{format::date(r.issued_on, lang)}" · "{r.total.display_mxn()}
                    {cancelled.then(|| view! { " · "<strong>{lang.pick("CANCELADO", "CANCELLED")}</strong> })}</p>
                <p>
                    <a class="button" href=format!("/recibo/{folio}?s={s}") data-testid="receipt-open">{lang.pick("Ver e imprimir", "View and print")}</a>" "
                    <a class="button secondary" href=format!("/recibo/{folio}/pdf?papel=carta&s={s}")>{lang.pick("PDF carta", "PDF letter")}</a>" "
                    <a class="button secondary" href=format!("/recibo/{folio}/pdf?papel=ticket&s={s}")>{lang.pick("PDF ticket", "PDF ticket")}</a>
                </p>
            </section>
        }
    }
}
