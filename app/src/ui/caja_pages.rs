//! The caja's pages (`/personal/caja/…`, `/personal/tesoreria/…`,
//! `/personal/cancelaciones`): opening a till, finding a debt and taking
//! its payment at the window, the change and the ticket, the blind corte
//! and its approval, bounced cheques, receipt cancellations and the
//! accounting export. Whole documents rendered on the server by
//! `server::caja`, which checks the session and the role first; real forms,
//! no script. Spanish only (the treasury's working language).

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::staff_pages::{document, when};
use super::PageContext;
use crate::collections::Collections;
use crate::domain::caja::{denomination_label, difference_words, CancelReason, Till, TillStatus, DENOMINATIONS};
use crate::domain::money::Centavos;
use crate::lookup::DebtDocument;
use crate::receipts::method_label;
use crate::store::{CancellationRequest, Order, TillSession, WindowPayment};

pub(super) fn tz(ctx: &PageContext) -> chrono_tz::Tz {
    ctx.municipality.timezone.parse().unwrap_or(chrono_tz::America::Mexico_City)
}

/// A notice at the top of a page: `(ok, text)`.
pub type Notice = Option<(bool, String)>;

pub(super) fn notice_view(notice: Notice) -> impl IntoView {
    notice.map(|(ok, text)| {
        if ok {
            view! { <div class="notice ok" role="status" data-testid="caja-notice"><p>{text}</p></div> }.into_any()
        } else {
            view! {
                <div class="error-summary" role="alert" tabindex="-1" data-testid="caja-error">
                    <h2>"Revise lo siguiente"</h2>
                    <p>{text}</p>
                </div>
            }
            .into_any()
        }
    })
}

pub(super) fn hidden_csrf(csrf: &str) -> impl IntoView {
    let csrf = csrf.to_string();
    view! { <input type="hidden" name="csrf" value=csrf/> }
}

fn method_name(m: crate::domain::payment::Method) -> &'static str {
    method_label(Some(m), crate::i18n::Lang::Es)
}

/// The payments of a session as a table (folio, time, method, amount,
/// state, ticket).
fn payments_table(payments: Vec<WindowPayment>, tz: chrono_tz::Tz) -> impl IntoView {
    let rows = payments
        .into_iter()
        .map(|p| {
            let folio = p.folio.as_ref().map(|f| f.to_string()).unwrap_or_default();
            let state = match (&p.cancel_reason, p.bounced_at) {
                (_, Some(_)) => "cheque devuelto".to_string(),
                (Some(reason), None) => format!("cancelado: {reason}"),
                (None, None) => "vigente".to_string(),
            };
            let ticket = format!("/personal/caja/recibo/{folio}");
            view! {
                <tr data-testid="caja-payment">
                    <td><a href=ticket>{folio.clone()}</a></td>
                    <td>{when(p.taken_at, tz)}</td>
                    <td>{method_name(p.method)}</td>
                    <td class="num">{p.amount.display_mxn()}</td>
                    <td>{state}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="caja-payments">
                <thead><tr><th>"Folio"</th><th>"Hora"</th><th>"Forma de pago"</th><th>"Importe"</th><th>"Estado"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// `GET /personal/caja`: open a till (with its float), or the open
/// session: find a debt, the payments taken, the corte.
pub fn till_home_document(
    ctx: PageContext,
    csrf: &str,
    tills: Vec<(Till, Option<String>)>,
    session: Option<TillSession>,
    payments: Vec<WindowPayment>,
    notice: Notice,
) -> String {
    let tz = tz(&ctx);
    let csrf = csrf.to_string();
    document(ctx, "Caja", move || {
        let body = match session {
            None => {
                let options = tills
                    .into_iter()
                    .map(|(t, busy)| {
                        let label = match &busy {
                            Some(who) => format!("{} — {} (ocupada: {who})", t.code, t.name),
                            None => format!("{} — {}", t.code, t.name),
                        };
                        view! { <option value=t.code.clone() disabled=busy.is_some()>{label}</option> }
                    })
                    .collect_view();
                view! {
                    <h2>"Abrir caja"</h2>
                    <form method="post" action="/personal/caja/abrir" class="card" data-testid="open-till">
                        {hidden_csrf(&csrf)}
                        <label for="caja">"Caja"</label>
                        <select id="caja" name="caja" required>{options}</select>
                        <label for="fondo">"Fondo inicial en efectivo (pesos)"</label>
                        <input id="fondo" name="fondo" type="text" inputmode="decimal" required autocomplete="off"
                            placeholder="1,000.00" data-testid="opening-float"/>
                        <button type="submit" class="button">"Abrir caja"</button>
                    </form>
                }
                .into_any()
            }
            Some(s) if s.status == TillStatus::Open => {
                let taken: Centavos = payments.iter().filter(|p| p.cancel_reason.is_none()).map(|p| p.amount).sum();
                view! {
                    <p class="lead" data-testid="till-open">
                        {format!("Caja {} abierta desde el {} con fondo de {}.", s.till, when(s.opened_at, tz), s.opening_float.display_mxn())}
                    </p>
                    <form method="get" action="/personal/caja/cobrar" class="card" data-testid="window-search">
                        <label for="q">"Cuenta, RFC o referencia de la orden de pago"</label>
                        <input id="q" name="q" type="text" required autofocus autocomplete="off" autocapitalize="characters"
                            spellcheck="false" data-testid="window-q"/>
                        <button type="submit" class="button">"Buscar adeudos"</button>
                    </form>
                    <h2>"Cobros de esta caja"</h2>
                    <p>{format!("{} cobros vigentes por {}.", payments.iter().filter(|p| p.cancel_reason.is_none()).count(), taken.display_mxn())}</p>
                    {payments_table(payments, tz)}
                    <p><a class="button secondary" href="/personal/caja/corte" data-testid="start-corte">"Hacer corte de caja"</a></p>
                }
                .into_any()
            }
            Some(s) => {
                let href = format!("/personal/caja/corte/{}", s.id);
                view! {
                    <p class="notice" data-testid="till-locked">
                        {format!("La caja {} está en corte y no recibe pagos hasta que un tesorero apruebe el corte.", s.till)}
                    </p>
                    <p><a class="button" href=href>"Ver el corte"</a></p>
                }
                .into_any()
            }
        };
        view! {
            <h1>"Caja"</h1>
            {notice_view(notice)}
            {body}
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}

/// `GET /personal/caja/cobrar?q=…`: the debts found, quoted as online,
/// to make an order of (all, or some, oldest first).
pub fn window_search_document(ctx: PageContext, csrf: &str, q: &str, found: Result<DebtDocument, String>) -> String {
    let (csrf, q) = (csrf.to_string(), q.to_string());
    document(ctx, "Cobrar en ventanilla", move || {
        let body = match found {
            Err(message) => view! {
                <div class="error-summary" role="alert" tabindex="-1" data-testid="caja-error">
                    <h2>"No se encontraron adeudos"</h2>
                    <p>{message}</p>
                </div>
            }
            .into_any(),
            Ok(doc) => {
                let any = doc.accounts.iter().any(|a| !a.items.is_empty());
                let accounts = doc
                    .accounts
                    .into_iter()
                    .map(|a| {
                        let rows = a
                            .items
                            .into_iter()
                            .map(|i| {
                                let id = format!("cargo-{}", i.charge_id);
                                let label_for = id.clone();
                                view! {
                                    <tr data-testid="window-charge">
                                        <td><input type="checkbox" id=id name="cargo" value=i.charge_id.to_string() checked=true/></td>
                                        <td><label for=label_for>{format!("{} {}", i.concept_name_es, i.period)}</label></td>
                                        <td class="num">{i.principal.display_mxn()}</td>
                                        <td class="num">{i.recargos.display_mxn()}</td>
                                        <td class="num">{if i.discount.0 == 0 { String::new() } else { format!("-{}", i.discount.display_mxn()) }}</td>
                                        <td class="num">{i.total.display_mxn()}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <h2>{format!("Cuenta {} — {} ({})", a.account, a.owner, a.kind)}</h2>
                            <div class="table-wrap">
                                <table>
                                    <thead><tr><th>"Cobrar"</th><th>"Concepto"</th><th>"Principal"</th><th>"Recargos"</th><th>"Descuento"</th><th>"Total"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                        }
                    })
                    .collect_view();
                if any {
                    view! {
                        <form method="post" action="/personal/caja/orden" data-testid="window-charges">
                            {hidden_csrf(&csrf)}
                            <input type="hidden" name="q" value=q.clone()/>
                            {accounts}
                            <p data-testid="window-quote-total">{format!("Total de todos los adeudos: {}", doc.total.display_mxn())}</p>
                            <p class="muted small">"Los adeudos se cobran del más antiguo al más reciente por cuenta y concepto."</p>
                            <button type="submit" class="button" data-testid="make-window-order">"Preparar el cobro"</button>
                        </form>
                    }
                    .into_any()
                } else {
                    view! { {accounts}<p data-testid="nothing-to-pay">"No hay adeudos pendientes."</p> }.into_any()
                }
            }
        };
        view! {
            <h1>"Cobrar en ventanilla"</h1>
            <form method="get" action="/personal/caja/cobrar" class="card">
                <label for="q">"Cuenta, RFC o referencia de la orden de pago"</label>
                <input id="q" name="q" type="text" required autocomplete="off" value=q.clone() data-testid="window-q"/>
                <button type="submit" class="button secondary">"Buscar"</button>
            </form>
            {body}
            <p><a href="/personal/caja">"Volver a la caja"</a></p>
        }
        .into_any()
    })
}

/// What the cajero typed on the payment form (kept after a refusal).
#[derive(Clone, Debug, Default)]
pub struct TenderForm {
    pub forma: String,
    pub recibido: String,
    pub autorizacion: String,
    pub banco: String,
    pub cheque: String,
    pub rastreo: String,
}

/// `GET /personal/caja/orden/{token}`: the order at the window and how it
/// is paid.
pub fn window_order_document(
    ctx: PageContext,
    csrf: &str,
    order: Order,
    entered: TenderForm,
    error: Option<String>,
) -> String {
    let csrf = csrf.to_string();
    let m = ctx.municipality.clone();
    document(ctx, "Cobro en ventanilla", move || {
        let rows = order
            .items
            .iter()
            .map(|i| {
                let name = m.concept(&i.concept).map(|c| c.name_es.clone()).unwrap_or_else(|| i.concept.clone());
                view! {
                    <tr>
                        <td>{i.account.clone()}</td>
                        <td>{format!("{name} {}", i.period)}</td>
                        <td class="num">{i.total.display_mxn()}</td>
                    </tr>
                }
            })
            .collect_view();
        let payable = order.status.is_live();
        let action = format!("/personal/caja/orden/{}/cobrar", order.token.as_str());
        let checked = |m: &str| entered.forma == m || (entered.forma.is_empty() && m == "efectivo");
        let form = payable.then(|| {
            view! {
                <form method="post" action=action class="card" data-testid="window-pay">
                    {hidden_csrf(&csrf)}
                    <fieldset>
                        <legend>"Forma de pago"</legend>
                        <label class="check"><input type="radio" name="forma" value="efectivo" checked=checked("efectivo") data-testid="method-cash"/>"Efectivo"</label>
                        <label class="check"><input type="radio" name="forma" value="tarjeta" checked=checked("tarjeta") data-testid="method-card"/>"Tarjeta (terminal bancaria)"</label>
                        <label class="check"><input type="radio" name="forma" value="cheque" checked=checked("cheque") data-testid="method-cheque"/>"Cheque"</label>
                        <label class="check"><input type="radio" name="forma" value="transferencia" checked=checked("transferencia") data-testid="method-transfer"/>"Transferencia"</label>
                    </fieldset>
                    <fieldset>
                        <legend>"Efectivo"</legend>
                        <label for="recibido">"Efectivo recibido (pesos)"</label>
                        <input id="recibido" name="recibido" type="text" inputmode="decimal" autocomplete="off" value=entered.recibido.clone() data-testid="tendered"/>
                    </fieldset>
                    <fieldset>
                        <legend>"Tarjeta"</legend>
                        <label for="autorizacion">"Número de autorización de la terminal"</label>
                        <input id="autorizacion" name="autorizacion" type="text" autocomplete="off" value=entered.autorizacion.clone()/>
                    </fieldset>
                    <fieldset>
                        <legend>"Cheque"</legend>
                        <label for="banco">"Banco"</label>
                        <input id="banco" name="banco" type="text" autocomplete="off" value=entered.banco.clone()/>
                        <label for="cheque">"Número de cheque"</label>
                        <input id="cheque" name="cheque" type="text" inputmode="numeric" autocomplete="off" value=entered.cheque.clone()/>
                    </fieldset>
                    <fieldset>
                        <legend>"Transferencia"</legend>
                        <label for="rastreo">"Clave de rastreo"</label>
                        <input id="rastreo" name="rastreo" type="text" autocomplete="off" value=entered.rastreo.clone()/>
                    </fieldset>
                    <button type="submit" class="button" data-testid="take-payment">{format!("Cobrar {}", order.total.display_mxn())}</button>
                </form>
            }
        });
        let closed = (!payable).then(|| {
            view! {
                <p class="notice" data-testid="order-not-payable">
                    {format!("Esta orden está en estado «{}»: ya no se cobra.", order.status.label_es())}
                </p>
            }
        });
        view! {
            <h1>"Cobro en ventanilla"</h1>
            {error.map(|e| view! {
                <div class="error-summary" role="alert" tabindex="-1" data-testid="caja-error">
                    <h2>"No se cobró"</h2><p>{e}</p>
                </div>
            })}
            <p>{format!("Orden {}", order.reference)}</p>
            <div class="table-wrap">
                <table data-testid="window-order">
                    <thead><tr><th>"Cuenta"</th><th>"Concepto"</th><th>"Importe"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <dl class="totals">
                <div><dt>"Ajuste por redondeo"</dt><dd>{order.rounding.display_mxn()}</dd></div>
                <div class="grand"><dt>"Total a cobrar"</dt><dd data-testid="window-total">{order.total.display_mxn()}</dd></div>
            </dl>
            {closed}
            {form}
            <p><a href="/personal/caja">"Volver a la caja"</a></p>
        }
        .into_any()
    })
}

/// `GET /personal/caja/recibo/{folio}`: a payment taken — the change to
/// give, big; the ticket to print; the receipt.
pub fn window_receipt_document(
    ctx: PageContext,
    payment: WindowPayment,
    receipt_url: Option<String>,
    total: Centavos,
) -> String {
    let tz = tz(&ctx);
    document(ctx, "Cobro registrado", move || {
        let folio = payment.folio.as_ref().map(|f| f.to_string()).unwrap_or_default();
        let ticket = format!("/personal/caja/recibo/{folio}/ticket");
        let change = payment.change.map(|c| {
            view! {
                <p class="change" data-testid="change-due">
                    <span>"Cambio a entregar"</span>
                    <strong>{c.display_mxn()}</strong>
                </p>
                <p>{format!("Recibido: {}", payment.tendered.unwrap_or_default().display_mxn())}</p>
            }
        });
        let cancelled = payment.cancel_reason.clone().map(|r| {
            view! { <p class="notice bad" role="alert" data-testid="receipt-cancelled">{format!("Recibo cancelado: {r}")}</p> }
        });
        view! {
            <h1>"Cobro registrado"</h1>
            {cancelled}
            <section class="card" data-testid="window-paid">
                <p>"Recibo oficial "<strong data-testid="window-folio">{folio.clone()}</strong></p>
                <p>{format!("{} — {} — {}", method_name(payment.method), total.display_mxn(), when(payment.taken_at, tz))}</p>
                {payment.reference.clone().map(|r| view! { <p>{format!("Referencia: {r}")}</p> })}
                {change}
                <p class="receipt-links">
                    <a class="button" href=ticket data-testid="print-ticket">"Imprimir ticket (80 mm)"</a>" "
                    {receipt_url.map(|u| view! { <a class="button secondary" href=u data-testid="open-receipt">"Ver el recibo"</a> })}
                </p>
            </section>
            <p><a class="button secondary" href="/personal/caja" data-testid="next-payment">"Siguiente cobro"</a></p>
        }
        .into_any()
    })
}

/// `GET /personal/caja/corte`: the blind count — cash by denomination and
/// the other methods' totals, with nothing expected shown.
pub fn count_document(ctx: PageContext, csrf: &str, session: TillSession, error: Option<String>) -> String {
    let csrf = csrf.to_string();
    document(ctx, "Corte de caja", move || {
        let rows = DENOMINATIONS
            .into_iter()
            .map(|d| {
                let id = format!("d{d}");
                let label_for = id.clone();
                view! {
                    <div class="count-row">
                        <label for=label_for>{denomination_label(d)}</label>
                        <input id=id.clone() name=id type="text" inputmode="numeric" autocomplete="off" placeholder="0"
                            data-testid=format!("count-{d}")/>
                    </div>
                }
            })
            .collect_view();
        view! {
            <h1>{format!("Corte de caja {}", session.till)}</h1>
            {error.map(|e| view! {
                <div class="error-summary" role="alert" tabindex="-1" data-testid="caja-error">
                    <h2>"Revise el conteo"</h2><p>{e}</p>
                </div>
            })}
            <p class="lead">
                "Cuente el efectivo de la caja (incluido el fondo inicial) y escriba cuántas piezas hay de cada denominación. \
                 Luego escriba los totales de los comprobantes de tarjeta, los cheques y las transferencias. \
                 El sistema le mostrará lo esperado hasta que registre el conteo; después ya no se puede cambiar."
            </p>
            <form method="post" action="/personal/caja/corte" class="card" data-testid="count-form">
                {hidden_csrf(&csrf)}
                <input type="hidden" name="sesion" value=session.id.to_string()/>
                <fieldset><legend>"Efectivo: piezas por denominación"</legend>{rows}</fieldset>
                <fieldset>
                    <legend>"Otras formas de pago (pesos)"</legend>
                    <label for="tarjeta">"Total de comprobantes de tarjeta"</label>
                    <input id="tarjeta" name="tarjeta" type="text" inputmode="decimal" autocomplete="off" data-testid="count-card"/>
                    <label for="cheques">"Total de cheques"</label>
                    <input id="cheques" name="cheques" type="text" inputmode="decimal" autocomplete="off" data-testid="count-cheque"/>
                    <label for="transferencias">"Total de transferencias"</label>
                    <input id="transferencias" name="transferencias" type="text" inputmode="decimal" autocomplete="off" data-testid="count-transfer"/>
                </fieldset>
                <button type="submit" class="button" data-testid="submit-count">"Registrar conteo"</button>
            </form>
            <p><a href="/personal/caja">"Volver a la caja"</a></p>
        }
        .into_any()
    })
}

/// What the corte page lets the viewer do.
pub struct CorteActions {
    /// The cajero of the till may explain a difference.
    pub explain: bool,
    /// A tesorero (not the cajero) may approve it.
    pub approve: bool,
}

/// `GET /personal/caja/corte/{id}`: expected against counted by method,
/// the difference, the folios used and cancelled, the explanation and the
/// approval; the PDF once closed.
pub fn corte_document(
    ctx: PageContext,
    csrf: &str,
    session: TillSession,
    payments: Vec<WindowPayment>,
    actions: CorteActions,
    notice: Notice,
) -> String {
    let tz = tz(&ctx);
    let csrf = csrf.to_string();
    document(ctx, "Corte de caja", move || {
        let Some(record) = session.corte.clone() else {
            return view! {
                <h1>{format!("Corte de caja {}", session.till)}</h1>
                <p>"La caja sigue abierta: aún no se registra el conteo."</p>
                <p><a href="/personal">"Volver"</a></p>
            }
            .into_any();
        };
        let corte = record.corte;
        let diffs = corte.differences();
        let rows = corte
            .expected
            .rows()
            .into_iter()
            .zip(corte.counted.rows())
            .zip(diffs.rows())
            .map(|(((method, expected), (_, counted)), (_, diff))| {
                view! {
                    <tr data-testid=format!("corte-{}", method.as_str())>
                        <td>{method_name(method)}</td>
                        <td class="num">{expected.display_mxn()}</td>
                        <td class="num">{counted.display_mxn()}</td>
                        <td class="num" data-testid="corte-diff">{difference_words(diff)}</td>
                    </tr>
                }
            })
            .collect_view();
        let valid: Vec<&WindowPayment> = payments.iter().filter(|p| p.cancel_reason.is_none()).collect();
        let folios = match (payments.first(), payments.last()) {
            (Some(first), Some(last)) => format!(
                "Folios usados: del {} al {} ({} recibos, {} cancelados).",
                first.folio.as_ref().map(|f| f.to_string()).unwrap_or_default(),
                last.folio.as_ref().map(|f| f.to_string()).unwrap_or_default(),
                payments.len(),
                payments.len() - valid.len()
            ),
            _ => "No se expidieron recibos en esta caja.".to_string(),
        };
        let cancelled = payments
            .iter()
            .filter_map(|p| {
                let reason = p.cancel_reason.clone()?;
                let folio = p.folio.as_ref().map(|f| f.to_string()).unwrap_or_default();
                Some(view! { <li data-testid="corte-cancelled">{format!("{folio} ({}): {reason}", p.amount.display_mxn())}</li> })
            })
            .collect_view();
        let state = match session.status {
            TillStatus::Closed if session.approved_by.is_some() => format!(
                "Corte aprobado por {} el {}.",
                session.approved_by.clone().unwrap_or_default(),
                session.approved_at.map(|t| when(t, tz)).unwrap_or_default()
            ),
            TillStatus::Closed => "Corte cerrado.".to_string(),
            _ if corte.balances() => {
                "Corte cuadrado: espera el visto bueno de un tesorero. La caja no recibe pagos.".into()
            }
            _ if session.explanation.is_some() => {
                "Corte con diferencia, explicado: espera la aprobación de un tesorero. La caja no recibe pagos.".into()
            }
            _ => "Corte con diferencia: la persona de la caja debe explicarla; luego la aprueba un tesorero. \
                  La caja no recibe pagos."
                .into(),
        };
        let explain = (actions.explain && session.status == TillStatus::Counted && !corte.balances()).then(|| {
            let action = format!("/personal/caja/corte/{}/explicacion", session.id);
            let current = session.explanation.clone().unwrap_or_default();
            view! {
                <form method="post" action=action class="card" data-testid="explain-form">
                    {hidden_csrf(&csrf)}
                    <label for="explicacion">"Explique la diferencia (10 a 500 caracteres)"</label>
                    <textarea id="explicacion" name="explicacion" required rows="3" data-testid="explanation">{current}</textarea>
                    <button type="submit" class="button">"Guardar explicación"</button>
                </form>
            }
        });
        let approvable = corte.balances() || session.explanation.is_some();
        let approve = (actions.approve && session.status == TillStatus::Counted && approvable).then(|| {
            let action = format!("/personal/tesoreria/cortes/{}/aprobar", session.id);
            view! {
                <form method="post" action=action class="card" data-testid="approve-form">
                    {hidden_csrf(&csrf)}
                    <label for="nota">"Nota de aprobación (qué se hará con la diferencia)"</label>
                    <textarea id="nota" name="nota" rows="2" data-testid="approval-note"></textarea>
                    <button type="submit" class="button" data-testid="approve-corte">"Aprobar corte"</button>
                </form>
            }
        });
        let pdf = (session.status == TillStatus::Closed).then(|| {
            let href = format!("/personal/caja/corte/{}/pdf", session.id);
            view! { <p><a class="button" href=href data-testid="corte-pdf">"Descargar el corte en PDF"</a></p> }
        });
        let class = if corte.balances() { "verdict ok" } else { "verdict bad" };
        view! {
            <h1>{format!("Corte de caja {} — {}", session.till, session.cashier)}</h1>
            {notice_view(notice)}
            <p class=class data-testid="corte-verdict" data-balanced=corte.balances().to_string()>
                {format!("Diferencia total: {}.", difference_words(corte.difference()))}
            </p>
            <p data-testid="corte-state">{state}</p>
            <div class="table-wrap">
                <table data-testid="corte-table">
                    <thead><tr><th>"Forma de pago"</th><th>"Esperado"</th><th>"Contado"</th><th>"Diferencia"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p class="muted small">{format!("El efectivo esperado incluye el fondo inicial de {}. Conteo registrado el {}.", session.opening_float.display_mxn(), when(record.counted_at, tz))}</p>
            <p data-testid="corte-folios">{folios}</p>
            <ul>{cancelled}</ul>
            {session.explanation.clone().map(|e| view! { <p data-testid="corte-explanation">{format!("Explicación: {e}")}</p> })}
            {session.approval_note.clone().filter(|n| !n.is_empty()).map(|n| view! { <p>{format!("Nota de aprobación: {n}")}</p> })}
            {explain}
            {approve}
            {pdf}
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}

/// `GET /personal/tesoreria/cortes` (tesorero): the cortes awaiting
/// approval and the latest sessions.
pub fn cortes_document(ctx: PageContext, pending: Vec<TillSession>, recent: Vec<TillSession>) -> String {
    let tz = tz(&ctx);
    document(ctx, "Cortes de caja", move || {
        let line = move |s: TillSession| {
            let href = format!("/personal/caja/corte/{}", s.id);
            let diff = s.corte.as_ref().map(|c| difference_words(c.corte.difference())).unwrap_or_default();
            view! {
                <tr data-testid="corte-row">
                    <td><a href=href>{format!("{} — {}", s.till, s.cashier)}</a></td>
                    <td>{when(s.opened_at, tz)}</td>
                    <td>{s.status.label_es()}</td>
                    <td>{diff}</td>
                </tr>
            }
        };
        let head = || view! { <thead><tr><th>"Caja"</th><th>"Abierta"</th><th>"Estado"</th><th>"Diferencia"</th></tr></thead> };
        let waiting: Vec<TillSession> = pending.into_iter().filter(|s| s.status == TillStatus::Counted).collect();
        let none = waiting.is_empty().then(|| view! { <p>"No hay cortes por aprobar."</p> });
        view! {
            <h1>"Cortes de caja"</h1>
            <h2>"Por aprobar"</h2>
            {none}
            <div class="table-wrap"><table data-testid="cortes-pending">{head()}<tbody>{waiting.into_iter().map(line).collect_view()}</tbody></table></div>
            <h2>"Recientes"</h2>
            <div class="table-wrap"><table data-testid="cortes-recent">{head()}<tbody>{recent.into_iter().map(line).collect_view()}</tbody></table></div>
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}

/// `GET /personal/tesoreria/cheques` (tesorero): record a bounced cheque.
pub fn cheques_document(ctx: PageContext, csrf: &str, notice: Notice) -> String {
    let csrf = csrf.to_string();
    document(ctx, "Cheques devueltos", move || {
        view! {
            <h1>"Cheques devueltos"</h1>
            {notice_view(notice)}
            <p>"Cuando el banco devuelve un cheque cobrado en ventanilla, regístrelo aquí: el recibo queda cancelado con el motivo y los adeudos vuelven a estar pendientes. Nada se borra."</p>
            <form method="post" action="/personal/tesoreria/cheques" class="card" data-testid="bounce-form">
                {hidden_csrf(&csrf)}
                <label for="folio">"Folio del recibo"</label>
                <input id="folio" name="folio" type="text" required autocomplete="off" autocapitalize="characters" data-testid="bounce-folio"/>
                <label for="nota">"Motivo de devolución del banco"</label>
                <input id="nota" name="nota" type="text" required autocomplete="off" data-testid="bounce-note"/>
                <button type="submit" class="button">"Registrar cheque devuelto"</button>
            </form>
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}

/// `GET /personal/cancelaciones` (cajero, tesorero): request a receipt's
/// cancellation; the requests, with approve / reject for a tesorero who
/// did not ask.
pub fn cancellations_document(
    ctx: PageContext,
    csrf: &str,
    viewer: &str,
    may_decide: bool,
    requests: Vec<CancellationRequest>,
    folio: &str,
    notice: Notice,
) -> String {
    let tz = tz(&ctx);
    let (csrf, viewer, folio) = (csrf.to_string(), viewer.to_string(), folio.to_string());
    document(ctx, "Cancelación de recibos", move || {
        let reasons = CancelReason::ALL
            .into_iter()
            .map(|r| view! { <option value=r.as_str()>{r.label_es()}</option> })
            .collect_view();
        let rows = requests
            .into_iter()
            .map(|r| {
                let decide = (may_decide && r.status == "requested" && r.requested_by != viewer).then(|| {
                    let (a, b) = (csrf.clone(), csrf.clone());
                    let approve = format!("/personal/cancelaciones/{}/aprobar", r.id);
                    let reject = format!("/personal/cancelaciones/{}/rechazar", r.id);
                    let note_a = format!("nota-a-{}", r.id);
                    let note_r = format!("nota-r-{}", r.id);
                    view! {
                        <form method="post" action=approve class="inline-form">
                            {hidden_csrf(&a)}
                            <label for=note_a.clone()>"Nota"</label>
                            <input id=note_a name="nota" type="text"/>
                            <button type="submit" class="button" data-testid="approve-cancellation">"Aprobar"</button>
                        </form>
                        <form method="post" action=reject class="inline-form">
                            {hidden_csrf(&b)}
                            <label for=note_r.clone()>"Nota"</label>
                            <input id=note_r name="nota" type="text"/>
                            <button type="submit" class="button secondary" data-testid="reject-cancellation">"Rechazar"</button>
                        </form>
                    }
                });
                let state = match r.status.as_str() {
                    "requested" => "por aprobar".to_string(),
                    "approved" => format!("aprobada por {}", r.decided_by.clone().unwrap_or_default()),
                    _ => format!("rechazada por {}", r.decided_by.clone().unwrap_or_default()),
                };
                view! {
                    <tr data-testid="cancellation-row" data-status=r.status.clone()>
                        <td>{r.folio.to_string()}</td>
                        <td>{format!("{} · {}", r.account, r.total.display_mxn())}</td>
                        <td>{format!("{}: {}", r.reason.label_es(), r.detail)}</td>
                        <td>{format!("{} ({})", r.requested_by, when(r.requested_at, tz))}</td>
                        <td>{state}</td>
                        <td>{decide}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h1>"Cancelación de recibos"</h1>
            {notice_view(notice)}
            <p>"Una cancelación la solicita una persona y la aprueba otra con rol de tesorero. El folio nunca se reutiliza: el recibo queda «cancelado» con la fecha y el motivo, y los adeudos vuelven a estar pendientes."</p>
            <form method="post" action="/personal/cancelaciones" class="card" data-testid="cancel-request">
                {hidden_csrf(&csrf)}
                <label for="folio">"Folio del recibo"</label>
                <input id="folio" name="folio" type="text" required autocomplete="off" autocapitalize="characters" value=folio data-testid="cancel-folio"/>
                <label for="motivo">"Motivo"</label>
                <select id="motivo" name="motivo" required>{reasons}</select>
                <label for="detalle">"Explicación (10 a 500 caracteres)"</label>
                <textarea id="detalle" name="detalle" required rows="3" data-testid="cancel-detail"></textarea>
                <button type="submit" class="button" data-testid="request-cancellation">"Solicitar cancelación"</button>
            </form>
            <div class="table-wrap">
                <table data-testid="cancellations">
                    <thead><tr><th>"Folio"</th><th>"Cuenta e importe"</th><th>"Motivo"</th><th>"Solicitó"</th><th>"Estado"</th><th>"Decisión"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}

/// `GET /personal/tesoreria/exportar?desde=…&hasta=…` (tesorero): the
/// accounting export of a range, on screen, with the CSV to download.
pub fn export_document(ctx: PageContext, from: &str, to: &str, shown: Result<Collections, String>) -> String {
    let (from, to) = (from.to_string(), to.to_string());
    document(ctx, "Exportación contable", move || {
        let body = match shown {
            Err(e) => view! {
                <div class="error-summary" role="alert" tabindex="-1" data-testid="caja-error"><p>{e}</p></div>
            }
            .into_any(),
            Ok(c) => {
                let csv = format!("/personal/tesoreria/exportar.csv?desde={}&hasta={}", c.from, c.to);
                let lines = c
                    .lines
                    .iter()
                    .map(|l| {
                        view! {
                            <tr data-testid="export-line">
                                <td>{if l.cri.is_empty() { "(sin CRI)".to_string() } else { l.cri.clone() }}</td>
                                <td>{l.concept_name.clone()}</td>
                                <td>{l.component.label_es()}</td>
                                <td>{l.channel.label_es()}</td>
                                <td class="num">{l.amount.display_mxn()}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                let rounding = c
                    .rounding
                    .iter()
                    .map(|(ch, amount)| {
                        view! {
                            <tr>
                                <td>{c.rounding_cri.clone()}</td><td>"Ajuste por redondeo"</td><td></td>
                                <td>{ch.label_es()}</td><td class="num">{amount.display_mxn()}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                let methods = c
                    .by_method
                    .iter()
                    .map(|(ch, m, amount, n)| {
                        view! {
                            <tr data-testid="export-method">
                                <td>{ch.label_es()}</td><td>{method_label(*m, crate::i18n::Lang::Es)}</td>
                                <td class="num">{n.to_string()}</td><td class="num">{amount.display_mxn()}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                let ranges = c
                    .folio_ranges
                    .iter()
                    .map(|r| {
                        view! {
                            <li data-testid="export-folios">{format!("Serie {} {}: del {} al {} ({} recibos, {} cancelados)", r.series, r.year, r.first, r.last, r.issued, r.cancelled)}</li>
                        }
                    })
                    .collect_view();
                let cancelled = c
                    .cancelled
                    .iter()
                    .map(|x| view! { <li data-testid="export-cancelled">{format!("{} ({}): {}", x.folio, x.total.display_mxn(), x.reason)}</li> })
                    .collect_view();
                let fees = c
                    .stripe_fees
                    .iter()
                    .map(|f| {
                        let href = format!("/personal/tesoreria/conciliacion/{}", f.payout_id);
                        view! {
                            <tr data-testid="export-stripe-fee">
                                <td>{f.day.format("%d/%m/%Y").to_string()}</td>
                                <td><a href=href>{f.payout_id.clone()}</a></td>
                                <td>{f.item_id.clone()}</td>
                                <td>{f.detail.clone()}</td>
                                <td class="num">{f.amount.display_mxn()}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                let fees_none = c
                    .stripe_fees
                    .is_empty()
                    .then(|| view! { <p>"No hay comisiones de Stripe registradas en el periodo (traiga los depósitos en Conciliación con Stripe)."</p> });
                let fees_total = format!("Total de comisiones de Stripe: {}", c.stripe_fees_total().display_mxn());
                let balance = if c.balanced() {
                    format!(
                        "Cuadra: los renglones suman {} = {} recibos vigentes.",
                        c.lines_total().display_mxn(),
                        c.receipts
                    )
                } else {
                    format!(
                        "NO CUADRA: renglones {} contra recibos {}.",
                        c.lines_total().display_mxn(),
                        c.receipts_total.display_mxn()
                    )
                };
                view! {
                    <p class=if c.balanced() { "verdict ok" } else { "verdict bad" } data-testid="export-balance">{balance}</p>
                    <p data-testid="export-total">{format!("Total recaudado: {}", c.receipts_total.display_mxn())}</p>
                    <p><a class="button" href=csv data-testid="export-csv">"Descargar CSV"</a></p>
                    <h2>"Por rubro de ingreso (CRI) y concepto"</h2>
                    <div class="table-wrap">
                        <table data-testid="export-lines">
                            <thead><tr><th>"CRI"</th><th>"Concepto"</th><th>"Componente"</th><th>"Canal"</th><th>"Importe"</th></tr></thead>
                            <tbody>{lines}{rounding}</tbody>
                        </table>
                    </div>
                    <h2>"Por forma de pago y canal"</h2>
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th>"Canal"</th><th>"Forma de pago"</th><th>"Recibos"</th><th>"Importe"</th></tr></thead>
                            <tbody>{methods}</tbody>
                        </table>
                    </div>
                    <h2>"Folios"</h2>
                    <ul>{ranges}</ul>
                    <h2>"Folios cancelados"</h2>
                    <ul>{cancelled}</ul>
                    <h2>"Comisiones de Stripe"</h2>
                    <p>"Lo que Stripe retuvo de los depósitos conciliados en el periodo (por la fecha de cada movimiento). Es un gasto de la recaudación: no forma parte del cuadre de los recibos."</p>
                    {fees_none}
                    <div class="table-wrap">
                        <table data-testid="export-stripe-fees">
                            <thead><tr><th>"Fecha"</th><th>"Depósito"</th><th>"Movimiento"</th><th>"Detalle"</th><th>"Comisión"</th></tr></thead>
                            <tbody>{fees}</tbody>
                        </table>
                    </div>
                    <p data-testid="export-stripe-fees-total">{fees_total}</p>
                }
                .into_any()
            }
        };
        view! {
            <h1>"Exportación contable"</h1>
            <form method="get" action="/personal/tesoreria/exportar" class="card" data-testid="export-form">
                <label for="desde">"Desde"</label>
                <input id="desde" name="desde" type="date" required value=from/>
                <label for="hasta">"Hasta"</label>
                <input id="hasta" name="hasta" type="date" required value=to/>
                <button type="submit" class="button">"Ver"</button>
            </form>
            {body}
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}
