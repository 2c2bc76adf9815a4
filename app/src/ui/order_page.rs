//! The payment order page (`/orden/{token}`: the printable "formato de
//! pago", its status and the buttons to pay online or re-quote) and the
//! embedded demo provider's checkout (`/prueba/pago/{token}`). Both are
//! reached only through the order's unguessable token
//! ([`crate::domain::order_token`]); both are
//! rendered on the server; their buttons are real POST forms handled by
//! `server::pay`.

use super::page::from_route_param;
use leptos::prelude::*;

#[component]
pub fn OrderPage() -> impl IntoView {
    from_route_param("token", ssr::order_page)
}

#[component]
pub fn DemoCheckoutPage() -> impl IntoView {
    from_route_param("token", ssr::demo_page)
}

#[cfg(not(feature = "ssr"))]
mod ssr {
    use leptos::prelude::*;

    // Pages render on the server only (islands): nothing to do in the browser.
    pub async fn order_page(_token: String) -> AnyView {
        ().into_any()
    }

    pub async fn demo_page(_token: String) -> AnyView {
        ().into_any()
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use chrono::Duration;
    use leptos::prelude::*;
    use leptos_meta::{Meta, Title};

    use super::super::debts::{Columns, DebtLine, DebtsTable};
    use super::super::format;
    use super::super::PageContext;
    use crate::csrf::{page_token, CSRF_FIELD};
    use crate::domain::order_token::OrderToken;
    use crate::domain::payment::{AttemptStatus, Instructions, Provider};
    use crate::domain::payment::{OrderStatus, ONLINE_MINIMUM};
    use crate::domain::reference::OrderReference;
    use crate::i18n::{Lang, Texts};
    use crate::state::AppState;
    use crate::store::{Order, OrderItem, PaymentAttempt, Receipt};

    fn not_found() -> AnyView {
        view! { <super::super::layout::NotFound/> }.into_any()
    }

    fn unavailable(t: &'static Texts) -> AnyView {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
        }
        view! { <h1>{t.order_title}</h1><p>{t.not_found_body}</p> }.into_any()
    }

    pub fn status_words(s: OrderStatus, t: &'static Texts) -> &'static str {
        match s {
            OrderStatus::Created => t.status_created,
            OrderStatus::Pending => t.status_pending,
            OrderStatus::Succeeded => t.status_succeeded,
            OrderStatus::Failed => t.status_failed,
            OrderStatus::Expired => t.status_expired,
            OrderStatus::Cancelled => t.status_cancelled,
            OrderStatus::Refunded => t.status_refunded,
            OrderStatus::Annulled => t.status_annulled,
        }
    }

    fn grouped(reference: &str) -> String {
        OrderReference::parse(reference).map(|r| r.display_grouped()).unwrap_or_else(|_| reference.to_string())
    }

    /// The id of the order at `/…/{token}`; `Err` is the page to show.
    async fn order_id(state: &AppState, token: &str, t: &'static Texts) -> Result<i64, AnyView> {
        let Some(token) = OrderToken::parse(token) else { return Err(not_found()) };
        match state.store.order_id_by_token(&token).await {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err(not_found()),
            Err(_) => Err(unavailable(t)),
        }
    }

    pub async fn order_page(token: String) -> AnyView {
        let ctx = expect_context::<PageContext>();
        let state = expect_context::<AppState>();
        let t = ctx.t();
        let id = match order_id(&state, &token, t).await {
            Ok(id) => id,
            Err(page) => return page,
        };
        let order = match crate::orders::get_order(&state, id).await {
            Ok(o) => o,
            Err(crate::orders::OrderError::NotFound(_)) => return not_found(),
            Err(_) => return unavailable(t),
        };
        let attempts = match state.store.attempts_of_order(id).await {
            Ok(a) => a,
            Err(_) => return unavailable(t),
        };
        // Back from Stripe Checkout's success URL (`?pago=stripe`): the page
        // says "pago en proceso" and refreshes itself, while Stripe is asked
        // in the background (never during this render) and its answer is
        // applied through the same path as the webhook; whichever comes
        // first wins, the other is a duplicate.
        let returning = ctx.param("pago").as_deref() == Some("stripe");
        if returning && order.status == OrderStatus::Pending {
            let pending =
                attempts.iter().rev().find(|a| a.status == AttemptStatus::Pending && a.provider == Provider::Stripe);
            if let Some(attempt) = pending {
                state.stripe_refresh.request(attempt.id);
            }
        }
        let receipt = match order.status {
            OrderStatus::Succeeded | OrderStatus::Refunded | OrderStatus::Annulled => {
                crate::receipts::receipt_of_order(&state, id).await.ok().flatten()
            }
            _ => None,
        };
        let token = page_token(&state.csrf_key, state.cookies);
        let online = state.online_provider().is_some();
        render_order(&ctx, order, attempts, receipt, returning, online, token)
    }

    fn render_order(
        ctx: &PageContext,
        order: Order,
        attempts: Vec<PaymentAttempt>,
        receipt: Option<Receipt>,
        returning: bool,
        online: bool,
        token: String,
    ) -> AnyView {
        let (t, lang) = (ctx.t(), ctx.lang);
        let status = order.status;
        let words = status_words(status, t);
        let reference = order.reference.clone();
        let path = format!("/orden/{}", order.token);
        let pending_attempt = attempts.iter().rev().find(|a| a.status == AttemptStatus::Pending);
        let instructions = pending_attempt.and_then(|a| a.instructions.clone());
        // Back from a card checkout and not confirmed yet: "pago en proceso"
        // (refreshing itself), not a second "pay" button.
        let processing = status == OrderStatus::Pending
            && instructions.is_none()
            && (returning || pending_attempt.is_some_and(|a| a.method.is_some()));
        let tz = ctx.municipality.timezone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC);
        let last_local = (order.expires_at - Duration::seconds(1)).with_timezone(&tz);
        let expires =
            format!("{} {} ({})", format::date(last_local.date_naive(), lang), last_local.format("%H:%M h"), tz.name());
        let total = order.total.display_mxn();
        let first_account = order.items.first().map(|i| i.account.clone()).unwrap_or_default();
        let lookup_href = format!("/consulta?cuenta={}", format::url_encode(&first_account));
        let m = ctx.municipality.clone();
        let lines: Vec<DebtLine> = order.items.iter().map(|i| line(i, &m, lang)).collect();
        let title = format!("{} {} — {}", t.order_title, reference, words);
        let paid = matches!(status, OrderStatus::Succeeded | OrderStatus::Refunded | OrderStatus::Annulled);
        view! {
            <Title text=title/>
            <h1>{t.order_title}</h1>
            // Paid: the confirmation first, where the eye lands.
            {paid.then(|| view! {
                <div class="notice success" role="status" tabindex="-1" autofocus data-testid="payment-received">
                    <h2>{t.status_succeeded}</h2>
                    <p>{t.paid_note}</p>
                    {receipt.as_ref().and_then(|r| r.signature.clone().map(|s| (r.folio.to_string(), s))).map(|(folio, s)| view! {
                        <p>{lang.pick("Recibo oficial", "Official receipt")}" "<strong data-testid="receipt-folio-link">{folio.clone()}</strong></p>
                        <p class="receipt-links">
                            <a class="button" href=format!("/recibo/{folio}?s={s}") data-testid="open-receipt">{lang.pick("Ver e imprimir el recibo", "View and print the receipt")}</a>" "
                            <a class="button secondary" href=format!("/recibo/{folio}/pdf?papel=carta&s={s}") data-testid="receipt-pdf">{lang.pick("Descargar PDF", "Download PDF")}</a>" "
                            <a class="button secondary" href=format!("/recibo/{folio}/pdf?papel=ticket&s={s}")>{lang.pick("PDF ticket 80 mm", "80 mm ticket PDF")}</a>
                        </p>
                    })}
                </div>
            })}
            <section class="card order" data-testid="order" data-reference=reference.clone() data-status=status.as_str()>
                {(!paid).then(|| view! { <p class="lead">{t.order_intro}</p> })}
                <dl class="order-head">
                    <div><dt>{t.order_reference}</dt><dd class="reference" data-testid="order-reference">{grouped(&reference)}</dd></div>
                    <div><dt>{t.order_status}</dt><dd data-testid="order-status">{words}</dd></div>
                    {(!paid).then(|| view! { <div><dt>{t.order_expires}</dt><dd data-testid="order-expires">{expires}</dd></div> })}
                </dl>
                <DebtsTable lines=lines columns=Columns { account: true, ..Columns::FULL } lang=lang row_testid="order-item"/>
                <dl class="totals">
                    <div><dt>{t.subtotal}</dt><dd data-testid="order-subtotal">{order.subtotal.display_mxn()}</dd></div>
                    <div data-testid="order-rounding"><dt>{t.rounding_line}</dt><dd>{order.rounding.display_mxn()}</dd></div>
                    <div class="grand"><dt>{t.order_total}</dt><dd data-testid="order-total">{order.total.display_mxn()}</dd></div>
                </dl>
                {(!paid).then(|| view! { <p class="muted small">{t.print_hint}</p> })}
            </section>
            {match status {
                OrderStatus::Succeeded | OrderStatus::Refunded | OrderStatus::Annulled => ().into_any(),
                OrderStatus::Pending if instructions.is_some() => {
                    instructions.clone().map(|i| pay_instructions(i, total.clone(), tz, t, lang)).into_any()
                }
                OrderStatus::Pending if processing => view! {
                    <Meta http_equiv="refresh" content="5"/>
                    <div class="notice" role="status" data-testid="payment-processing">
                        <h2>{t.processing_title}</h2>
                        <p>{t.processing_note}</p>
                        <p><a href=format!("{path}?pago=stripe") data-testid="refresh-status">{t.refresh_status}</a></p>
                    </div>
                }.into_any(),
                OrderStatus::Created | OrderStatus::Pending if !online => view! {
                    <div class="notice" role="status" data-testid="online-unavailable">
                        <p>{t.online_unavailable}</p>
                    </div>
                }.into_any(),
                OrderStatus::Created if order.total < ONLINE_MINIMUM => view! {
                    <div class="notice" role="status" data-testid="below-online-minimum">
                        <p>{t.below_online_minimum}</p>
                    </div>
                }.into_any(),
                OrderStatus::Created | OrderStatus::Pending => view! {
                    <form method="post" action=format!("{path}/pagar") class="actions">
                        <input type="hidden" name=CSRF_FIELD value=token.clone()/>
                        <button type="submit" data-testid="pay-online">{t.pay_online}</button>
                    </form>
                }.into_any(),
                OrderStatus::Expired => view! {
                    <div class="notice" role="status" data-testid="order-expired">
                        <p>{t.expired_note}</p>
                        <form method="post" action=format!("{path}/cotizar") class="actions">
                            <input type="hidden" name=CSRF_FIELD value=token.clone()/>
                            <button type="submit" data-testid="requote">{t.requote}</button>
                        </form>
                    </div>
                }.into_any(),
                OrderStatus::Failed | OrderStatus::Cancelled => view! {
                    <div class="notice" role="status" data-testid="payment-failed"><p>{t.failed_note}</p></div>
                }.into_any(),
            }}
            <p><a class="button secondary" href=lookup_href data-testid="lookup-again">{t.new_search}</a></p>
        }
        .into_any()
    }

    /// The OXXO voucher or the SPEI transfer details of a pending payment.
    fn pay_instructions(i: Instructions, total: String, tz: chrono_tz::Tz, t: &'static Texts, lang: Lang) -> AnyView {
        let deadline = i.expires_at().map(|at| {
            let local = (at - Duration::seconds(1)).with_timezone(&tz);
            format!("{} {}", format::date(local.date_naive(), lang), local.format("%H:%M h"))
        });
        let deadline_row = deadline.map(|d| {
            view! { <div><dt>{t.pay_before}</dt><dd data-testid="pay-before">{d}</dd></div> }
        });
        match i {
            Instructions::Oxxo { number, url, .. } => view! {
                <div class="notice" role="status" data-testid="payment-pending" data-method="oxxo">
                    <h2>{t.oxxo_title}</h2>
                    <p>{t.oxxo_note}</p>
                    <dl class="order-head">
                        <div><dt>{t.oxxo_voucher}</dt><dd class="reference" data-testid="oxxo-voucher">{number}</dd></div>
                        <div><dt>{t.amount_to_pay}</dt><dd data-testid="amount-to-pay">{total}</dd></div>
                        {deadline_row}
                    </dl>
                    {url.map(|u| view! { <p><a href=u rel="noopener" data-testid="voucher-link">{t.oxxo_voucher_link}</a></p> })}
                </div>
            }
            .into_any(),
            Instructions::Spei { clabe, bank, reference, url, .. } => view! {
                <div class="notice" role="status" data-testid="payment-pending" data-method="spei">
                    <h2>{t.spei_title}</h2>
                    <p>{t.spei_note}</p>
                    <dl class="order-head">
                        <div><dt>{t.spei_clabe}</dt><dd class="reference" data-testid="spei-clabe">{clabe}</dd></div>
                        <div><dt>{t.spei_bank}</dt><dd data-testid="spei-bank">{bank}</dd></div>
                        <div><dt>{t.spei_reference}</dt><dd data-testid="spei-reference">{reference}</dd></div>
                        <div><dt>{t.amount_to_pay}</dt><dd data-testid="amount-to-pay">{total}</dd></div>
                        {deadline_row}
                    </dl>
                    {url.map(|u| view! { <p><a href=u rel="noopener" data-testid="transfer-link">{t.spei_link}</a></p> })}
                </div>
            }
            .into_any(),
        }
    }

    /// A frozen order item as a line of the debts table.
    fn line(i: &OrderItem, m: &crate::domain::municipality::Municipality, lang: Lang) -> DebtLine {
        DebtLine {
            selectable: None,
            account: Some(i.account.clone()),
            concept: m
                .concept(&i.concept)
                .map(|c| lang.pick(&c.name_es, &c.name_en).to_string())
                .unwrap_or_else(|| i.concept.clone()),
            period: i.period.clone(),
            due_date: Some(i.due_date),
            months_late: 0,
            principal: i.principal,
            recargos: i.recargos,
            discount: i.discount,
            discounts: Vec::new(),
            total: i.total,
        }
    }

    pub async fn demo_page(token: String) -> AnyView {
        let ctx = expect_context::<PageContext>();
        let state = expect_context::<AppState>();
        let t = ctx.t();
        if !state.demo_payments {
            return not_found();
        }
        let id = match order_id(&state, &token, t).await {
            Ok(id) => id,
            Err(page) => return page,
        };
        // The order's open demo checkout, if it has one.
        match state.store.attempts_of_order(id).await {
            Ok(a) if a.iter().any(|a| a.status == AttemptStatus::Pending && a.provider == Provider::Demo) => {}
            Ok(_) => return not_found(),
            Err(_) => return unavailable(t),
        }
        let order = match crate::orders::get_order(&state, id).await {
            Ok(o) => o,
            Err(_) => return unavailable(t),
        };
        let action = format!("/prueba/pago/{}/accion", order.token);
        let token = page_token(&state.csrf_key, state.cookies);
        let button = |value: &'static str, label: &'static str, class: &'static str| {
            let token = token.clone();
            let action = action.clone();
            view! {
                <form method="post" action=action class="demo-action">
                    <input type="hidden" name=CSRF_FIELD value=token/>
                    <input type="hidden" name="accion" value=value/>
                    <button type="submit" class=class data-testid=format!("demo-{value}")>{label}</button>
                </form>
            }
        };
        let order_href = format!("/orden/{}", order.token);
        view! {
            <Title text=format!("{} — {}", t.demo_title, t.demo_banner)/>
            <p class="demo-banner" role="note" data-testid="demo-banner"><strong>{t.demo_banner}</strong></p>
            <h1>{t.demo_title}</h1>
            <dl class="order-head card">
                <div><dt>{t.order_reference}</dt><dd data-testid="demo-reference">{grouped(&order.reference)}</dd></div>
                <div><dt>{t.order_total}</dt><dd data-testid="demo-total">{order.total.display_mxn()}</dd></div>
                <div><dt>{t.order_status}</dt><dd>{status_words(order.status, t)}</dd></div>
            </dl>
            <div class="demo-actions">
                {button("pagar", t.demo_pay_card, "")}
                {button("rechazar", t.demo_fail, "secondary")}
                {button("oxxo", t.demo_oxxo_pending, "secondary")}
                {button("oxxo-pagado", t.demo_oxxo_paid, "secondary")}
            </div>
            <p><a href=order_href>{t.back_to_order}</a></p>
        }
        .into_any()
    }
}
