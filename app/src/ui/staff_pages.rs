//! The staff's pages (`/personal/…`): the login form, the staff home and
//! the audit trail. Rendered on the server as whole documents by the
//! handlers of `server::staff`, which check the session and the role
//! first; no script. Spanish only for now (the treasury's working language).

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::PageContext;
use crate::domain::staff::Role;
use crate::store::{AuditEntry, StaffUser};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A whole staff document: `body` inside the site layout.
fn document(ctx: PageContext, title: &str, body: impl FnOnce() -> AnyView + Send + 'static) -> String {
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
    let csrf = csrf.to_string();
    document(ctx, "Personal", move || {
        view! {
            <h1>"Sistema de la tesorería"</h1>
            <p data-testid="staff-name">{format!("{name} ({username})")}</p>
            <p data-testid="staff-roles">{format!("Roles: {}", roles.join(", "))}</p>
            <ul>
                {audit.then(|| view! { <li><a href="/personal/bitacora">"Bitácora de auditoría"</a></li> })}
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
