//! The staff's pages (`/personal/…`): the login form and its second step
//! (the TOTP code), the staff home, the second factor's enrolment, the
//! audit trail, the verify desk and the staff admin. Rendered on the
//! server as whole documents by the handlers of `server::staff`, which
//! check the session and the role first. No WebAssembly: the one script is
//! the desk's camera ([`DESK_CAMERA_SCRIPT`], plain JavaScript, loaded by
//! the desk page alone). Spanish only for now (the treasury's working
//! language). The caja's pages are in [`super::caja_pages`].

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::PageContext;
use crate::domain::staff::Role;
use crate::store::{AuditEntry, StaffUser};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A whole staff document: `body` inside the site layout.
pub(super) fn document(ctx: PageContext, title: &str, body: impl FnOnce() -> AnyView + Send + 'static) -> String {
    let owner = Owner::new();
    let html = owner.with(|| {
        provide_context(ctx);
        view! { <super::layout::Layout>{body()}</super::layout::Layout> }.to_html()
    });
    format!(
        "<!DOCTYPE html><html lang=\"es-MX\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <meta name=\"color-scheme\" content=\"light\"/><meta name=\"robots\" content=\"noindex\"/>\
         <link rel=\"stylesheet\" href=\"/pkg/recauda.css\"/><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"/>\
         <title>{} — Recauda, personal</title></head><body>{html}</body></html>",
        escape(title)
    )
}

/// `GET /personal/entrar`: the login form (with an error summary after a
/// refused attempt, the username kept).
pub fn login_document(ctx: PageContext, csrf: &str, error: Option<&str>, username: &str, back: &str) -> String {
    let (csrf, username, back) = (csrf.to_string(), username.to_string(), back.to_string());
    let error = error.map(str::to_string);
    document(ctx, "Entrar", move || {
        view! {
            <h1>"Entrar al sistema de la tesorería"</h1>
            {error.map(|e| view! {
                <div class="error-summary" role="alert" tabindex="-1" data-testid="error-summary">
                    <h2>"No pudo entrar"</h2>
                    <p>{e}</p>
                </div>
            })}
            <form method="post" action="/personal/entrar" class="card" data-testid="login-form">
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="volver" value=back/>
                <label for="usuario">"Usuario"</label>
                <input id="usuario" name="usuario" type="text" autocomplete="username" required
                    autocapitalize="none" spellcheck="false" value=username/>
                <label for="contrasena">"Contraseña"</label>
                <input id="contrasena" name="contrasena" type="password" autocomplete="current-password" required/>
                <button type="submit" class="button">"Entrar"</button>
            </form>
            <p>"Solo para el personal de la tesorería. Los intentos fallidos quedan registrados."</p>
        }
        .into_any()
    })
}

/// The error summary of a refused form: a heading and the reason, focusable
/// and announced.
fn error_summary(title: &'static str, text: String) -> impl IntoView {
    view! {
        <div class="error-summary" role="alert" tabindex="-1" data-testid="error-summary">
            <h2>{title}</h2>
            <p>{text}</p>
        </div>
    }
}

/// The 6-digit code field: numeric keyboard, the browser's one-time-code
/// autofill, described by its hint.
fn code_field() -> impl IntoView {
    view! {
        <label for="codigo">"Código de verificación"</label>
        <p id="codigo-ayuda" class="hint">
            "Los 6 dígitos que muestra ahora su aplicación de autenticación (cambian cada 30 segundos)."
        </p>
        <input id="codigo" name="codigo" type="text" inputmode="numeric" autocomplete="one-time-code"
            pattern="[0-9 ]{6,7}" maxlength="7" required autofocus aria-describedby="codigo-ayuda"
            data-testid="totp-code"/>
    }
}

/// `POST /personal/entrar` for an account with TOTP on: the second step,
/// the code (with an error summary after a refused one). `pending` is the
/// pending login's token.
pub fn login_code_document(ctx: PageContext, csrf: &str, pending: &str, back: &str, error: Option<&str>) -> String {
    let (csrf, pending, back) = (csrf.to_string(), pending.to_string(), back.to_string());
    let error = error.map(str::to_string);
    document(ctx, "Código de verificación", move || {
        view! {
            <h1>"Verificación en dos pasos"</h1>
            {error.map(|e| error_summary("No pudo entrar", e))}
            <p>"Su contraseña es correcta. Para terminar de entrar, escriba el código de su aplicación de autenticación."</p>
            <form method="post" action="/personal/entrar/codigo" class="card" data-testid="totp-login-form">
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="pendiente" value=pending/>
                <input type="hidden" name="volver" value=back/>
                {code_field()}
                <button type="submit" class="button">"Verificar y entrar"</button>
            </form>
            <p>
                "¿Perdió su teléfono? Pida a quien administra el personal que restablezca su verificación en dos pasos. "
                <a href="/personal/entrar">"Volver a empezar"</a>
            </p>
        }
        .into_any()
    })
}

/// What `/personal/cuenta/2fa` shows.
pub enum TotpView {
    /// Not on yet: the secret offered, to scan or type, and the form that
    /// confirms it with a code. `required`: the municipality requires it
    /// (nothing else opens until it is on).
    Enrol { offer: crate::staff::TotpOffer, required: bool },
    /// On: the form that turns it off (unless `required`).
    Enabled { required: bool },
}

/// `GET /personal/cuenta/2fa`: the second factor — enrolment (QR code of
/// the `otpauth://` URI, the secret as text, a code to confirm) or, when
/// it is on, turning it off. `notice`: the outcome of the last form (`ok`,
/// text).
pub fn totp_document(ctx: PageContext, csrf: &str, view: TotpView, notice: Option<(bool, String)>) -> String {
    let csrf = csrf.to_string();
    document(ctx, "Verificación en dos pasos", move || {
        let notice = notice.map(|(ok, text)| {
            if ok {
                view! { <div class="notice ok" role="status" data-testid="totp-notice"><p>{text}</p></div> }.into_any()
            } else {
                error_summary("No se hizo el cambio", text).into_any()
            }
        });
        let body = match view {
            TotpView::Enrol { offer, required } => {
                let qr = super::receipt_page::ssr::qr_svg(&offer.uri);
                let grouped = crate::totp::grouped(&offer.secret);
                let (secret, logout) = (offer.secret.clone(), csrf.clone());
                let must = required.then(|| {
                    view! {
                        <p class="notice" data-testid="totp-required">
                            "La tesorería exige la verificación en dos pasos para su rol. Actívela para continuar: "
                            "hasta entonces no podrá usar las demás páginas del sistema."
                        </p>
                    }
                });
                view! {
                    {must}
                    <p data-testid="totp-state">"Estado: no activada."</p>
                    <h2>"1. Agregue la cuenta a su aplicación"</h2>
                    <p>
                        "Abra una aplicación de autenticación (por ejemplo Google Authenticator, Microsoft "
                        "Authenticator, FreeOTP o Aegis) y escanee este código QR."
                    </p>
                    <figure class="totp-qr">
                        <div role="img" aria-label="Código QR para agregar la cuenta a su aplicación de autenticación"
                            data-testid="totp-qr" inner_html=qr></div>
                        <figcaption>
                            "¿No puede escanear? Escriba esta clave en la aplicación (tipo: basada en tiempo): "
                            <code data-testid="totp-secret">{grouped}</code>
                        </figcaption>
                    </figure>
                    <h2>"2. Confirme con un código"</h2>
                    <form method="post" action="/personal/cuenta/2fa" class="card" data-testid="totp-enrol-form">
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <input type="hidden" name="secreto" value=secret/>
                        {code_field()}
                        <button type="submit" class="button">"Activar la verificación en dos pasos"</button>
                    </form>
                    {required.then(|| logout_forms(&logout))}
                }
                .into_any()
            }
            TotpView::Enabled { required } => {
                let form = if required {
                    view! {
                        <p data-testid="totp-required">
                            "La tesorería la exige para su rol: no se puede desactivar. Si perdió su teléfono, "
                            "pida a quien administra el personal que la restablezca."
                        </p>
                    }
                    .into_any()
                } else {
                    let csrf = csrf.clone();
                    view! {
                        <h2>"Desactivar"</h2>
                        <form method="post" action="/personal/cuenta/2fa/desactivar" class="card"
                            data-testid="totp-disable-form">
                            <input type="hidden" name="csrf" value=csrf/>
                            {code_field()}
                            <button type="submit" class="button secondary">"Desactivar la verificación en dos pasos"</button>
                        </form>
                    }
                    .into_any()
                };
                view! {
                    <p data-testid="totp-state">
                        "Estado: activada. Al entrar se le pide, después de la contraseña, el código de su aplicación."
                    </p>
                    {form}
                }
                .into_any()
            }
        };
        view! {
            <h1>"Verificación en dos pasos"</h1>
            {notice}
            {body}
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}

/// The buttons that end the session, each a POST carrying the session's token.
fn logout_forms(csrf: &str) -> impl IntoView {
    let (a, b) = (csrf.to_string(), csrf.to_string());
    view! {
        <form method="post" action="/personal/salir" class="inline-form">
            <input type="hidden" name="csrf" value=a/>
            <button type="submit" class="button secondary" data-testid="logout">"Salir"</button>
        </form>
        <form method="post" action="/personal/salir-todas" class="inline-form">
            <input type="hidden" name="csrf" value=b/>
            <button type="submit" class="button secondary" data-testid="logout-everywhere">
                "Cerrar todas mis sesiones"
            </button>
        </form>
    }
}

/// `GET /personal`: who is logged in, with which roles, and where to go.
pub fn home_document(ctx: PageContext, user: &StaffUser, csrf: &str) -> String {
    let name = user.display_name.clone();
    let username = user.username.to_string();
    let roles: Vec<&'static str> = user.roles.iter().map(Role::label_es).collect();
    let audit = user.roles.any_of(crate::domain::staff::may::READ_AUDIT);
    let desk = user.roles.any_of(crate::domain::staff::may::VERIFY_RECEIPTS);
    let admin = user.roles.any_of(crate::domain::staff::may::MANAGE_STAFF);
    let till = user.roles.any_of(crate::domain::staff::may::WORK_TILL);
    let treasury = user.roles.any_of(crate::domain::staff::may::TREASURY);
    let cancel = user.roles.any_of(crate::domain::staff::may::REQUEST_CANCELLATION);
    let totp = if user.totp_enabled() { "activada" } else { "no activada" };
    let csrf = csrf.to_string();
    document(ctx, "Personal", move || {
        view! {
            <h1>"Sistema de la tesorería"</h1>
            <p data-testid="staff-name">{format!("{name} ({username})")}</p>
            <p data-testid="staff-roles">{format!("Roles: {}", roles.join(", "))}</p>
            <ul>
                {till.then(|| view! { <li><a href="/personal/caja" data-testid="go-till">"Caja: cobrar en ventanilla y corte"</a></li> })}
                {desk.then(|| view! { <li><a href="/personal/caja/verificar" data-testid="go-desk">"Verificar y entregar recibos"</a></li> })}
                {cancel.then(|| view! { <li><a href="/personal/cancelaciones">"Cancelación de recibos"</a></li> })}
                {treasury.then(|| view! {
                    <li><a href="/personal/tesoreria/cortes" data-testid="go-cortes">"Cortes de caja"</a></li>
                    <li><a href="/personal/tesoreria/cheques">"Cheques devueltos"</a></li>
                    <li><a href="/personal/tesoreria/exportar" data-testid="go-export">"Exportación contable"</a></li>
                    <li><a href="/personal/tesoreria/conciliacion" data-testid="go-reconciliation">"Conciliación con Stripe"</a></li>
                    <li><a href="/personal/tesoreria/basura" data-testid="go-garbage">"Recolección de basura: servicios y multas"</a></li>
                })}
                {admin.then(|| view! { <li><a href="/personal/admin/personal">"Personal y roles"</a></li> })}
                {audit.then(|| view! { <li><a href="/personal/bitacora">"Bitácora de auditoría"</a></li> })}
                <li>
                    <a href="/personal/cuenta/2fa">"Verificación en dos pasos"</a>
                    {format!(" ({totp})")}
                </li>
            </ul>
            {logout_forms(&csrf)}
        }
        .into_any()
    })
}

/// `GET /personal/bitacora`: the latest entries of the audit trail,
/// filtered by action and actor, and whether the chain is intact.
pub fn audit_document(
    ctx: PageContext,
    entries: Vec<AuditEntry>,
    action: &str,
    actor: &str,
    chain: Result<u64, (i64, String)>,
) -> String {
    let (action, actor) = (action.to_string(), actor.to_string());
    document(ctx, "Bitácora de auditoría", move || {
        let verdict = match chain {
            Ok(n) => view! {
                <p class="verdict ok" data-testid="audit-chain">{format!("Cadena íntegra: {n} entradas.")}</p>
            }
            .into_any(),
            Err((seq, why)) => view! {
                <p class="verdict bad" role="alert" data-testid="audit-chain">
                    {format!("Bitácora ALTERADA desde la entrada {seq}: {why}.")}
                </p>
            }
            .into_any(),
        };
        let rows = entries
            .into_iter()
            .map(|e| {
                view! {
                    <tr>
                        <td>{e.seq}</td>
                        <td>{e.at}</td>
                        <td>{e.actor}</td>
                        <td>{e.action}</td>
                        <td><code>{e.details}</code></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h1>"Bitácora de auditoría"</h1>
            {verdict}
            <form method="get" action="/personal/bitacora" class="card">
                <label for="accion">"Acción (p. ej. payment.applied)"</label>
                <input id="accion" name="accion" type="text" value=action/>
                <label for="actor">"Quién (p. ej. stripe, staff:cajera1)"</label>
                <input id="actor" name="actor" type="text" value=actor/>
                <button type="submit" class="button">"Filtrar"</button>
            </form>
            <div class="table-wrap">
                <table data-testid="audit-table">
                    <thead><tr><th>"Núm."</th><th>"Cuándo (UTC)"</th><th>"Quién"</th><th>"Acción"</th><th>"Detalles"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}

/// The desk's camera scanner (`public/js/desk-camera.js`, a static asset
/// under the CSP's `script-src 'self'`): plain JavaScript with the browser's
/// `BarcodeDetector`, loaded by the desk page only (never by the citizen's
/// pages, whose WebAssembly it does not touch).
pub const DESK_CAMERA_SCRIPT: &str = "/js/desk-camera.js";

/// What the desk page shows under the scanner field.
pub enum DeskShown {
    /// Nothing scanned yet.
    Nothing,
    /// What was scanned or photographed cannot be checked: why (what was
    /// typed or read is not a receipt's verification URL, a photo without
    /// a code, a file that is not a photo).
    Refused(String),
    /// A checked receipt; `note` is the outcome of a redemption just tried.
    Checked { check: Box<crate::receipts::DeskCheck>, note: Option<DeskNote> },
    /// A checked permit (its QR code's URL is `…/p/<folio>?s=…`), with its
    /// scope to compare against the paper.
    /// `demo_redeemable`: this portal runs the demonstration provider, so
    /// its demonstration permits may be handed over (never elsewhere).
    Permit { check: Box<crate::permits::PermitCheck>, note: Option<DeskNote>, demo_redeemable: bool },
}

/// The outcome of "Entregar / canjear".
pub enum DeskNote {
    RedeemedNow,
    AlreadyRedeemed,
    NotRedeemable,
}

pub(super) fn when(t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string()
}

/// `GET /personal/caja/verificar`: the field a USB or Bluetooth scanner
/// types into (the QR's URL, then Enter), and the verdict, big and
/// colour-coded, with the amounts and the masked name to compare with the
/// paper, and "Entregar / canjear" for an authentic receipt not yet redeemed.
///
/// On a phone or tablet: "Escanear con la cámara", shown by
/// [`DESK_CAMERA_SCRIPT`] where the browser reads QR codes itself (it fills
/// the field and sends the form), and, for every other browser and without
/// JavaScript, a form that sends a photo of the code to
/// `POST /personal/caja/verificar/foto`.
pub fn desk_document(ctx: PageContext, csrf: &str, scanned: &str, shown: DeskShown, may_redeem: bool) -> String {
    use crate::receipts::VerdictKind;
    let tz: chrono_tz::Tz = ctx.municipality.timezone.parse().unwrap_or(chrono_tz::America::Mexico_City);
    let (csrf, scanned) = (csrf.to_string(), scanned.to_string());
    document(ctx, "Verificar recibos", move || {
        let result = match shown {
            DeskShown::Nothing => ().into_any(),
            DeskShown::Refused(why) => view! {
                <div class="error-summary" role="alert" data-testid="desk-error"><p>{why}</p></div>
            }
            .into_any(),
            DeskShown::Permit { check, note, demo_redeemable } => {
                permit_verdict(*check, note, may_redeem, demo_redeemable, &csrf, tz).into_any()
            }
            DeskShown::Checked { check, note } => {
                let kind = check.verification.kind;
                let class = format!("verdict verdict-{} desk-verdict", kind.as_str());
                let title = kind.title(crate::i18n::Lang::Es);
                let explanation = kind.explanation(crate::i18n::Lang::Es);
                let note = note.map(|n| {
                    let (class, text) = match (&n, &check.redemption) {
                        (DeskNote::RedeemedNow, _) => ("notice ok", "Entregado: el recibo quedó canjeado.".to_string()),
                        (DeskNote::AlreadyRedeemed, Some(r)) => (
                            "notice bad",
                            format!(
                                "YA SE CANJEÓ el {} en «{}» por {}. No lo entregue de nuevo.",
                                when(r.at, tz),
                                r.place,
                                r.by
                            ),
                        ),
                        (DeskNote::AlreadyRedeemed, None) | (DeskNote::NotRedeemable, _) => (
                            "notice bad",
                            "Este recibo no se puede canjear (no es auténtico o fue cancelado).".to_string(),
                        ),
                    };
                    view! { <p class=class role="alert" data-testid="desk-note">{text}</p> }
                });
                let redeemed = check.redemption.clone().map(|r| {
                    view! {
                        <p class="notice" data-testid="desk-redeemed">
                            {format!("Canjeado el {} en «{}» por {}.", when(r.at, tz), r.place, r.by)}
                        </p>
                    }
                });
                let facts = check.verification.receipt.clone().map(|r| {
                    view! {
                        <dl class="facts" data-testid="desk-facts">
                            <dt>"Folio"</dt><dd>{r.folio.clone()}</dd>
                            <dt>"Total"</dt><dd data-testid="desk-total">{r.total.display_mxn()}</dd>
                            <dt>"Fecha"</dt><dd>{r.issued_on.format("%d/%m/%Y").to_string()}</dd>
                            <dt>"Cuenta"</dt><dd>{r.account.clone()}</dd>
                            <dt>"Contribuyente"</dt><dd>{r.payer.clone()}</dd>
                        </dl>
                    }
                });
                let reason =
                    check.verification.cancel_reason.clone().map(|r| view! { <p>{format!("Motivo: {r}")}</p> });
                let can_redeem = may_redeem && kind == VerdictKind::Authentic && check.redemption.is_none();
                let form = can_redeem.then(|| {
                    let (folio, s, csrf) = (check.folio.clone(), check.signature.clone(), csrf.clone());
                    view! {
                        <form method="post" action="/personal/caja/canjear">
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="folio" value=folio/>
                            <input type="hidden" name="s" value=s/>
                            <button type="submit" class="button" data-testid="redeem">"Entregar / canjear"</button>
                        </form>
                    }
                });
                view! {
                    <section class=class data-testid="desk-verdict" data-verdict=kind.as_str() aria-live="polite">
                        <h2>{format!("{} {}", kind.icon(), title)}</h2>
                        <p>{explanation}</p>
                        {reason}
                        {facts}
                        {redeemed}
                        {note}
                        {form}
                    </section>
                }
                .into_any()
            }
        };
        let photo_csrf = csrf.clone();
        view! {
            <h1>"Verificar recibos y permisos"</h1>
            <section class="card desk-camera" id="desk-camera" data-testid="desk-camera" hidden
                aria-label="Escanear con la cámara">
                <button type="button" class="button desk-camera-start" id="desk-camera-start"
                    data-testid="desk-camera-start">"Escanear con la cámara"</button>
                <div id="desk-camera-view" hidden>
                    <video id="desk-camera-video" playsinline muted aria-label="Vista de la cámara trasera"></video>
                    <button type="button" class="button secondary" id="desk-camera-cancel">"Cancelar"</button>
                </div>
                <p class="desk-camera-status" id="desk-camera-status" role="status" aria-live="polite"></p>
            </section>
            <form method="get" action="/personal/caja/verificar" class="card desk-form" data-testid="desk-form">
                <label for="url">"Escanee el código QR del recibo (o escriba su dirección) y oprima Enter"</label>
                <input id="url" name="url" type="text" autofocus autocomplete="off" autocapitalize="none"
                    spellcheck="false" inputmode="url" value=scanned data-testid="desk-input"/>
                <button type="submit" class="button">"Verificar"</button>
            </form>
            {result}
            <form method="post" action="/personal/caja/verificar/foto" enctype="multipart/form-data"
                class="card desk-photo" data-testid="desk-photo-form">
                <input type="hidden" name="csrf" value=photo_csrf/>
                <label for="foto">"¿Sin lector? Tome una foto del código QR del recibo"</label>
                <p class="help">"De cerca, con el código completo y sin reflejos. JPEG o PNG, hasta 8 MB."</p>
                <input id="foto" name="foto" type="file" accept="image/*" capture="environment" required
                    data-testid="desk-photo-input"/>
                <button type="submit" class="button secondary">"Verificar la foto"</button>
            </form>
            <p><a href="/personal">"Volver"</a></p>
            <script src=DESK_CAMERA_SCRIPT defer></script>
        }
        .into_any()
    })
}

/// The desk's verdict on a permit: its scope as recorded (what the paper
/// must show), its redemption, and the button to hand it over once.
fn permit_verdict(
    check: crate::permits::PermitCheck,
    note: Option<DeskNote>,
    may_redeem: bool,
    demo_redeemable: bool,
    csrf: &str,
    tz: chrono_tz::Tz,
) -> impl IntoView {
    use crate::permits::PermitVerdict;
    let verdict = check.verdict;
    let ok = verdict == PermitVerdict::Authentic;
    let redeemable = ok || (demo_redeemable && verdict == PermitVerdict::Demo);
    let class = format!("verdict verdict-{} desk-verdict", if ok { "authentic" } else { "forged" });
    let redeemed =
        check.permit.as_ref().and_then(|p| p.redeemed_at.map(|at| (at, p.redeemed_by.clone().unwrap_or_default())));
    let note = note.map(|n| {
        let text = match (&n, &redeemed) {
            (DeskNote::RedeemedNow, _) => "Entregado: el permiso quedó canjeado.".to_string(),
            (DeskNote::AlreadyRedeemed, Some((at, by))) => {
                format!("YA SE CANJEÓ el {} por {by}. No lo entregue de nuevo.", when(*at, tz))
            }
            _ => "Este permiso no se puede canjear (no es auténtico o fue cancelado).".to_string(),
        };
        let class = if matches!(n, DeskNote::RedeemedNow) { "notice ok" } else { "notice bad" };
        view! { <p class=class role="alert" data-testid="desk-note">{text}</p> }
    });
    let scope = check.permit.as_ref().map(|p| {
        let s = &p.scope;
        view! {
            <dl class="facts" data-testid="desk-permit-scope">
                <dt>"Folio"</dt><dd>{p.folio.to_string()}</dd>
                {s.licence.clone().map(|n| view! { <dt>"Licencia"</dt><dd data-testid="desk-permit-licence">{n}</dd> })}
                <dt>"Titular"</dt><dd>{s.holder.clone()}</dd>
                <dt>"Ubicación"</dt><dd>{s.location.clone()}</dd>
                <dt>"Vigencia"</dt><dd data-testid="desk-permit-dates">{format!("{} al {}", s.starts_on.format("%d/%m/%Y"), s.ends_on.format("%d/%m/%Y"))}</dd>
                <dt>"Horario"</dt><dd>{if s.hours.is_empty() { "—".to_string() } else { s.hours.clone() }}</dd>
                <dt>"Medida"</dt><dd data-testid="desk-permit-measure">{s.measure.clone()}</dd>
                <dt>"Condiciones"</dt><dd>{if s.conditions.is_empty() { "—".to_string() } else { s.conditions.clone() }}</dd>
            </dl>
        }
    });
    let already = redeemed.clone().map(|(at, by)| {
        view! { <p class="notice" data-testid="desk-redeemed">{format!("Canjeado el {} por {by}.", when(at, tz))}</p> }
    });
    let form = (may_redeem && redeemable && redeemed.is_none()).then(|| {
        let (folio, s, csrf) = (check.folio.clone(), check.signature.clone(), csrf.to_string());
        view! {
            <form method="post" action="/personal/caja/canjear">
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="tipo" value="permiso"/>
                <input type="hidden" name="folio" value=folio/>
                <input type="hidden" name="s" value=s/>
                <button type="submit" class="button" data-testid="redeem">"Entregar / canjear permiso"</button>
            </form>
        }
    });
    view! {
        <section class=class data-testid="desk-verdict" data-verdict=verdict.as_str() aria-live="polite">
            <h2>{match verdict {
                PermitVerdict::Authentic => "✔ Permiso auténtico",
                PermitVerdict::Demo => "⚠ Permiso de demostración",
                _ => "✘ Permiso no válido",
            }}</h2>
            <p>{verdict.message_es()}</p>
            {scope}
            {already}
            {note}
            {form}
        </section>
    }
}

/// `GET /personal/admin/personal` (admin): every account, with forms to
/// create one, change roles, disable or enable, reset a password, and
/// reset the second factor of one that has it on.
pub fn admin_document(ctx: PageContext, csrf: &str, people: Vec<StaffUser>, notice: Option<(bool, String)>) -> String {
    let csrf = csrf.to_string();
    document(ctx, "Personal y roles", move || {
        let notice = notice.map(|(ok, text)| {
            let class = if ok { "notice ok" } else { "error-summary" };
            view! { <div class=class role="alert" data-testid="admin-notice"><p>{text}</p></div> }
        });
        let role_boxes = |prefix: String, held: Option<crate::domain::staff::Roles>| {
            Role::ALL
                .into_iter()
                .map(|r| {
                    let id = format!("{prefix}-{}", r.as_str());
                    let label_for = id.clone();
                    let checked = held.as_ref().is_some_and(|h| h.contains(r));
                    view! {
                        <label for=label_for class="check">
                            <input type="checkbox" id=id name="rol" value=r.as_str() checked=checked/>
                            {r.label_es()}
                        </label>
                    }
                })
                .collect_view()
        };
        let rows = people
            .into_iter()
            .map(|p| {
                let name = p.username.to_string();
                let base = format!("/personal/admin/personal/{name}");
                let state = match (p.active, p.totp_enabled()) {
                    (true, true) => "activa, con verificación en dos pasos",
                    (true, false) => "activa",
                    (false, _) => "desactivada",
                };
                let toggle = if p.active { ("0", "Desactivar") } else { ("1", "Activar") };
                let (c1, c2, c3) = (csrf.clone(), csrf.clone(), csrf.clone());
                let reset_totp = p.totp_enabled().then(|| {
                    let (c4, action) = (csrf.clone(), format!("{base}/2fa"));
                    view! {
                        <form method="post" action=action>
                            <input type="hidden" name="csrf" value=c4/>
                            <button type="submit" class="button secondary" data-testid=format!("reset-2fa-{name}")>
                                "Restablecer verificación en dos pasos"
                            </button>
                        </form>
                    }
                });
                view! {
                    <tr data-testid=format!("staff-{name}")>
                        <td>{format!("{} ({name})", p.display_name)}</td>
                        <td>{p.roles.iter().map(Role::label_es).collect::<Vec<_>>().join(", ")}</td>
                        <td>{state}</td>
                        <td>
                            <form method="post" action=format!("{base}/roles")>
                                <input type="hidden" name="csrf" value=c1/>
                                {role_boxes(format!("rol-{name}"), Some(p.roles.clone()))}
                                <button type="submit" class="button secondary">"Guardar roles"</button>
                            </form>
                            <form method="post" action=format!("{base}/estado")>
                                <input type="hidden" name="csrf" value=c2/>
                                <input type="hidden" name="activa" value=toggle.0/>
                                <button type="submit" class="button secondary">{toggle.1}</button>
                            </form>
                            <form method="post" action=format!("{base}/contrasena")>
                                <input type="hidden" name="csrf" value=c3/>
                                <label for=format!("pw-{name}")>"Nueva contraseña"</label>
                                <input id=format!("pw-{name}") name="contrasena" type="password" autocomplete="new-password"/>
                                <button type="submit" class="button secondary">"Restablecer"</button>
                            </form>
                            {reset_totp}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        let create_csrf = csrf.clone();
        view! {
            <h1>"Personal y roles"</h1>
            {notice}
            <div class="table-wrap">
                <table data-testid="staff-table">
                    <thead><tr><th>"Persona"</th><th>"Roles"</th><th>"Cuenta"</th><th>"Cambios"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h2>"Nueva cuenta"</h2>
            <form method="post" action="/personal/admin/personal" class="card" data-testid="staff-create">
                <input type="hidden" name="csrf" value=create_csrf/>
                <label for="nuevo-usuario">"Usuario"</label>
                <input id="nuevo-usuario" name="usuario" type="text" autocapitalize="none" required/>
                <label for="nuevo-nombre">"Nombre"</label>
                <input id="nuevo-nombre" name="nombre" type="text" required/>
                <fieldset><legend>"Roles"</legend>{role_boxes("nuevo".into(), None)}</fieldset>
                <label for="nuevo-pw">"Contraseña inicial (al menos 12 caracteres)"</label>
                <input id="nuevo-pw" name="contrasena" type="password" autocomplete="new-password" required/>
                <button type="submit" class="button">"Crear cuenta"</button>
            </form>
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}
