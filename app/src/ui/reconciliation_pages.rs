//! The reconciliation with Stripe's pages (`/personal/tesoreria/conciliacion…`,
//! tesorero): the stored payouts with their status and the form that
//! fetches them from Stripe (a POST), the Stripe receipts still in no
//! payout after the expected delay, and each payout's report with
//! "Aplicar" for a payment Stripe took that Recauda missed. Whole documents
//! rendered on the server by `server::reconciliation`, which checks the
//! session and the role first; real forms, no script. Spanish only.

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::caja_pages::{hidden_csrf, notice_view, tz, Notice};
use super::staff_pages::{document, when};
use super::PageContext;
use crate::receipts::method_label;
use crate::reconciliation::{payout_due, PayoutReport, PayoutStatus, StripeReceipt, Verdict};

fn status_class(s: PayoutStatus) -> &'static str {
    match s {
        PayoutStatus::Reconciled => "verdict ok",
        PayoutStatus::WithDifferences | PayoutStatus::NeedsInvestigation => "verdict bad",
    }
}

/// `GET /personal/tesoreria/conciliacion` (tesorero).
pub fn reconciliation_document(
    ctx: PageContext,
    csrf: &str,
    since: &str,
    stripe_configured: bool,
    reports: Vec<PayoutReport>,
    missing: Vec<StripeReceipt>,
    notice: Notice,
) -> String {
    let (csrf, since) = (csrf.to_string(), since.to_string());
    document(ctx, "Conciliación con Stripe", move || {
        let fetch = if stripe_configured {
            view! {
                <form method="post" action="/personal/tesoreria/conciliacion" class="card" data-testid="fetch-payouts">
                    {hidden_csrf(&csrf)}
                    <label for="desde">"Depósitos creados desde"</label>
                    <input id="desde" name="desde" type="date" required value=since/>
                    <button type="submit" class="button">"Traer depósitos de Stripe"</button>
                </form>
            }
            .into_any()
        } else {
            view! { <p data-testid="no-stripe">"Stripe no está configurado en este servidor: no hay depósitos que traer."</p> }
                .into_any()
        };
        let none = reports.is_empty().then(|| view! { <p>"Todavía no hay depósitos guardados."</p> });
        let rows = reports
            .into_iter()
            .map(|r| {
                let href = format!("/personal/tesoreria/conciliacion/{}", r.payout.id);
                let differences = r.lines.iter().filter(|l| l.verdict.is_difference()).count();
                view! {
                    <tr data-testid="payout-row" data-status=r.status.code()>
                        <td><a href=href>{r.payout.id.clone()}</a></td>
                        <td>{r.payout.arrival_date.format("%d/%m/%Y").to_string()}</td>
                        <td>{r.payout.status_es().to_string()}</td>
                        <td class="num">{r.payout.amount.display_mxn()}</td>
                        <td class="num">{r.lines.len().to_string()}</td>
                        <td class="num">{differences.to_string()}</td>
                        <td><span class=status_class(r.status)>{r.status.label_es()}</span></td>
                    </tr>
                }
            })
            .collect_view();
        let missing_none = missing.is_empty().then(|| {
            view! { <p data-testid="missing-none">"Todos los cobros con Stripe ya vencidos aparecen en algún depósito guardado."</p> }
        });
        let missing_rows = missing
            .into_iter()
            .map(|m| {
                let due = payout_due(m.method, m.paid_on);
                view! {
                    <tr data-testid="missing-row">
                        <td>{m.folio.clone()}</td>
                        <td>{m.order_reference.clone()}</td>
                        <td>{method_label(m.method, crate::i18n::Lang::Es)}</td>
                        <td>{m.paid_on.format("%d/%m/%Y").to_string()}</td>
                        <td>{due.format("%d/%m/%Y").to_string()}</td>
                        <td class="num">{m.total.display_mxn()}</td>
                        <td>{m.payment_intent.clone().unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h1>"Conciliación con Stripe"</h1>
            {notice_view(notice)}
            <p>"Cada depósito (payout) de Stripe a la cuenta de la tesorería, con sus movimientos: cobros, reembolsos, contracargos y comisiones, comparados con lo que registró Recauda. Traer los depósitos consulta a Stripe; volver a traerlos no cambia nada de lo ya guardado."</p>
            {fetch}
            <h2>"Depósitos"</h2>
            {none}
            <div class="table-wrap">
                <table data-testid="payouts">
                    <thead><tr><th>"Depósito"</th><th>"Llegada"</th><th>"Estado en Stripe"</th><th>"Importe"</th><th>"Movimientos"</th><th>"Diferencias"</th><th>"Conciliación"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h2>"Cobros de Stripe sin depósito"</h2>
            <p>{format!(
                "Recibos vigentes pagados con Stripe que ningún depósito guardado incluye después del plazo esperado ({} días hábiles con tarjeta, {} días con OXXO). Traiga los depósitos recientes antes de investigarlos.",
                crate::reconciliation::CARD_PAYOUT_BUSINESS_DAYS,
                crate::reconciliation::OXXO_PAYOUT_DAYS
            )}</p>
            {missing_none}
            <div class="table-wrap">
                <table data-testid="missing">
                    <thead><tr><th>"Folio"</th><th>"Orden"</th><th>"Forma de pago"</th><th>"Pagado"</th><th>"Depósito esperado a más tardar"</th><th>"Importe"</th><th>"PaymentIntent"</th></tr></thead>
                    <tbody>{missing_rows}</tbody>
                </table>
            </div>
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}

/// `GET /personal/tesoreria/conciliacion/{payout_id}` (tesorero).
pub fn payout_document(ctx: PageContext, csrf: &str, report: PayoutReport, notice: Notice) -> String {
    let tz = tz(&ctx);
    let csrf = csrf.to_string();
    let title = format!("Depósito {}", report.payout.id);
    document(ctx, &title, move || {
        let p = report.payout.clone();
        let csv = format!("/personal/tesoreria/conciliacion/{}.csv", p.id);
        let apply = format!("/personal/tesoreria/conciliacion/{}/aplicar", p.id);
        let rows = report
            .lines
            .iter()
            .map(|l| {
                let i = &l.item;
                let order = i.order.as_ref().map(|o| format!("{} ({})", o.reference, o.status.label_es()));
                let heal = (l.verdict == Verdict::NotApplied).then(|| {
                    let (csrf, action, id) = (csrf.clone(), apply.clone(), i.id.clone());
                    view! {
                        <form method="post" action=action class="inline-form">
                            {hidden_csrf(&csrf)}
                            <input type="hidden" name="movimiento" value=id/>
                            <button type="submit" class="button" data-testid="heal">"Aplicar"</button>
                        </form>
                    }
                });
                view! {
                    <tr data-testid="payout-item" data-verdict=l.verdict.code() data-item=i.id.clone()>
                        <td>{i.id.clone()}</td>
                        <td>{l.kind.label_es()}</td>
                        <td>{when(i.created, tz)}</td>
                        <td class="num">{i.amount.display_mxn()}</td>
                        <td class="num">{i.fee.display_mxn()}</td>
                        <td class="num">{i.net.display_mxn()}</td>
                        <td>{i.source_id.clone().unwrap_or_default()}<br/>{i.payment_intent.clone().unwrap_or_default()}</td>
                        <td>{order}</td>
                        <td>{l.verdict.label_es()}</td>
                        <td>{i.description.clone().unwrap_or_default()}</td>
                        <td>{heal}</td>
                    </tr>
                }
            })
            .collect_view();
        let adds_up = if report.net_matches() {
            format!("Los movimientos suman el depósito: {}.", report.net.display_mxn())
        } else {
            format!(
                "Los movimientos suman {} y el depósito es de {}: diferencia de {}.",
                report.net.display_mxn(),
                p.amount.display_mxn(),
                (p.amount - report.net).display_mxn()
            )
        };
        let investigate = (report.status == PayoutStatus::NeedsInvestigation).then(|| {
            view! {
                <p class="verdict bad" role="alert" data-testid="needs-investigation">
                    "Requiere investigación: ningún movimiento de este depósito corresponde a una orden de Recauda."
                </p>
            }
        });
        view! {
            <h1>{format!("Depósito {}", p.id)}</h1>
            {notice_view(notice)}
            <p data-testid="payout-status" class=status_class(report.status)>{format!("Conciliación: {}", report.status.label_es())}</p>
            {investigate}
            <dl class="card">
                <dt>"Estado en Stripe"</dt><dd>{p.status_es().to_string()}</dd>
                <dt>"Llegada al banco"</dt><dd>{p.arrival_date.format("%d/%m/%Y").to_string()}</dd>
                <dt>"Importe depositado"</dt><dd data-testid="payout-amount">{p.amount.display_mxn()}</dd>
                <dt>"Cobros (bruto)"</dt><dd data-testid="payout-gross">{report.gross.display_mxn()}</dd>
                <dt>"Comisiones de Stripe"</dt><dd data-testid="payout-fees">{report.fees.display_mxn()}</dd>
                <dt>"Reembolsos"</dt><dd data-testid="payout-refunds">{report.refunds.display_mxn()}</dd>
                <dt>"Contracargos"</dt><dd data-testid="payout-disputes">{report.disputes.display_mxn()}</dd>
                <dt>"Otros"</dt><dd>{report.other.display_mxn()}</dd>
                <dt>"Neto"</dt><dd data-testid="payout-net">{report.net.display_mxn()}</dd>
                <dt>"Movimientos con orden de Recauda"</dt><dd data-testid="payout-matched">{report.matched.to_string()}</dd>
                <dt>"Traído por"</dt><dd>{format!("{} ({})", p.fetched_by, when(p.fetched_at, tz))}</dd>
            </dl>
            <p class=if report.net_matches() { "verdict ok" } else { "verdict bad" } data-testid="payout-adds-up">{adds_up}</p>
            <p><a class="button" href=csv data-testid="payout-csv">"Descargar CSV"</a></p>
            <p>"«Aplicar» registra en Recauda un pago que Stripe cobró y Recauda no vio (un aviso perdido): consulta la sesión de pago en Stripe y la aplica por el mismo camino que los avisos de Stripe, una sola vez, con su recibo."</p>
            <div class="table-wrap">
                <table data-testid="payout-items">
                    <thead><tr><th>"Movimiento"</th><th>"Tipo"</th><th>"Fecha"</th><th>"Importe"</th><th>"Comisión"</th><th>"Neto"</th><th>"Origen"</th><th>"Orden"</th><th>"Resultado"</th><th>"Descripción"</th><th></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p><a href="/personal/tesoreria/conciliacion">"Volver a la conciliación"</a></p>
        }
        .into_any()
    })
}
