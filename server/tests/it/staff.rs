//! Staff accounts: `recauda staff create` (the first admin, password on
//! standard input), argon2id hashes, logins with a lockout after repeated
//! failures, and every step in the audit trail — on SQLite and PostgreSQL.

use std::io::Write;
use std::process::{Command, Stdio};

use app::domain::staff::{Role, Roles, Username};
use app::staff::{authenticate, create_staff, CreateStaffError, LoginError, LOCK_AFTER_FAILURES, LOCK_MINUTES};
use app::store::Store;
use chrono::Duration;

pub(crate) const PASSWORD: &str = "caballo correcto batería grapa";
/// The browser session (CSRF cookie) a login from the library is made in.
const BROWSER: &str = "0123456789abcdef0123456789abcdef";

/// Runs `recauda staff create ARGS` with `stdin` on a database.
fn staff_create(url: &str, dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_recauda"))
        .args(["staff", "create"])
        .args(args)
        .current_dir(dir)
        .env("RECAUDA_DATABASE_URL", url)
        .env_remove("RECAUDA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn the_first_admin_is_created_from_the_command_line_with_the_password_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("staff.db").display());
    let store = Store::connect(&url).await.unwrap();
    let admin = ["--user", "Admin.Loreto", "--role", "admin", "--nombre", "Ana Admin", "--password-stdin"];

    let (ok, out, err) = staff_create(&url, dir.path(), &admin, &format!("{PASSWORD}\n"));
    assert!(ok, "{out}{err}");
    assert!(out.contains("Usuario «admin.loreto» creado") && out.contains("Administrador(a)"), "{out}");
    let user = store.staff_by_username(&Username::parse("admin.loreto").unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (user.display_name.as_str(), user.roles.to_stored().as_str(), user.active),
        ("Ana Admin", "admin", true)
    );
    assert!(user.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", user.password_hash);
    assert!(!user.password_hash.contains(PASSWORD));

    // Refused, and nothing changes: the same name, a short password, a
    // password as an argument, no --password-stdin, an unknown role.
    let (ok, _, err) = staff_create(&url, dir.path(), &admin, &format!("{PASSWORD}\n"));
    assert!(!ok && err.contains("ya existe un usuario «admin.loreto»"), "{err}");
    let (ok, _, err) =
        staff_create(&url, dir.path(), &["--user", "caja1", "--role", "cajero", "--password-stdin"], "corta\n");
    assert!(!ok && err.contains("al menos 12 caracteres"), "{err}");
    let (ok, _, err) =
        staff_create(&url, dir.path(), &["--user", "caja1", "--role", "cajero", "--password", PASSWORD], "");
    assert!(!ok && err.contains("no se acepta como argumento"), "{err}");
    let (ok, _, err) = staff_create(&url, dir.path(), &["--user", "caja1", "--role", "cajero"], "");
    assert!(!ok && err.contains("--password-stdin"), "{err}");
    let (ok, _, err) =
        staff_create(&url, dir.path(), &["--user", "caja1", "--role", "jefe", "--password-stdin"], "x\n");
    assert!(!ok && err.contains("rol desconocido «jefe»"), "{err}");
    assert_eq!(store.count_staff().await.unwrap(), 1);
    let entries = store.latest_audit(10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "staff.created");
    assert!(entries[0].actor.starts_with("cli:"), "{}", entries[0].actor);
}

/// Logins: right and wrong passwords, an unknown user (hashed against a
/// dummy, recorded too), the lockout after five failures in a row (even
/// the right password is refused until it ends), and the trail.
async fn logins(store: &Store) {
    let now = chrono::Utc::now();
    let cajera = Username::parse("cajera1").unwrap();
    create_staff(store, &cajera, "Carla Caja", Roles::new([Role::Cajero]), PASSWORD.into(), "cli:test", now)
        .await
        .unwrap();
    let taken = create_staff(store, &cajera, "Otra", Roles::new([Role::Admin]), PASSWORD.into(), "cli:test", now).await;
    assert!(matches!(taken, Err(CreateStaffError::Taken(_))), "{taken:?}");

    let user = authenticate(store, "  Cajera1 ", PASSWORD.into(), "203.0.113.5", now).await.unwrap();
    assert!(user.roles.contains(Role::Cajero) && !user.roles.contains(Role::Admin));
    assert_eq!(authenticate(store, "nadie", PASSWORD.into(), "203.0.113.5", now).await, Err(LoginError::Invalid));
    assert_eq!(authenticate(store, "x", PASSWORD.into(), "203.0.113.5", now).await, Err(LoginError::Invalid));

    for _ in 1..LOCK_AFTER_FAILURES {
        assert_eq!(
            authenticate(store, "cajera1", "adivina".into(), "198.51.100.9", now).await,
            Err(LoginError::Invalid)
        );
    }
    let until = now + Duration::minutes(LOCK_MINUTES);
    assert_eq!(
        authenticate(store, "cajera1", "adivina".into(), "198.51.100.9", now).await,
        Err(LoginError::Locked { until })
    );
    let later = now + Duration::minutes(5);
    assert!(matches!(
        authenticate(store, "cajera1", PASSWORD.into(), "203.0.113.5", later).await,
        Err(LoginError::Locked { .. })
    ));
    let after = now + Duration::minutes(LOCK_MINUTES + 1);
    authenticate(store, "cajera1", PASSWORD.into(), "203.0.113.5", after).await.expect("unlocked after the lockout");
    let user = store.staff_by_username(&cajera).await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None), "a success starts the count again");

    let actions: Vec<String> = store.latest_audit(50).await.unwrap().into_iter().rev().map(|e| e.action).collect();
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    assert_eq!(count("staff.created"), 1);
    assert_eq!(count("staff.login"), 2);
    assert_eq!(count("staff.login_failed"), 2 + LOCK_AFTER_FAILURES as usize);
    assert_eq!(store.verify_audit().await.unwrap().first_bad, None);

    // Sessions, admin changes, redemptions and the audit filter: the same
    // statements on both databases.
    let logged = app::staff::log_in(store, "cajera1", PASSWORD.into(), "203.0.113.5", BROWSER, after)
        .await
        .unwrap()
        .into_session()
        .unwrap();
    let other = app::staff::log_in(store, "cajera1", PASSWORD.into(), "203.0.113.5", BROWSER, after)
        .await
        .unwrap()
        .into_session()
        .unwrap();
    let at = |m: i64| after + Duration::minutes(m);
    assert!(app::staff::session_user(store, &logged.session_id, at(2)).await.unwrap().is_some());
    assert!(
        app::staff::session_user(store, &logged.session_id, at(31)).await.unwrap().is_some(),
        "touched at minute 2"
    );
    assert!(app::staff::session_user(store, &logged.session_id, at(2 + 60)).await.unwrap().is_none(), "idle");
    app::staff::log_out(store, &user, &other.session_id, true, at(3)).await.unwrap();
    assert!(app::staff::session_user(store, &other.session_id, at(4)).await.unwrap().is_none());

    use app::store::StaffChange;
    let again = app::staff::log_in(store, "cajera1", PASSWORD.into(), "203.0.113.5", BROWSER, at(5))
        .await
        .unwrap()
        .into_session()
        .unwrap();
    store
        .change_staff(user.id, &StaffChange::Roles(Roles::new([Role::Cajero, Role::Tesorero])), "staff:admin", at(6))
        .await
        .unwrap();
    assert!(store.staff_by_username(&cajera).await.unwrap().unwrap().roles.contains(Role::Tesorero));
    store.change_staff(user.id, &StaffChange::Active(false), "staff:admin", at(7)).await.unwrap();
    assert!(
        app::staff::session_user(store, &again.session_id, at(8)).await.unwrap().is_none(),
        "disabling ends sessions"
    );
    assert_eq!(
        authenticate(store, "cajera1", PASSWORD.into(), "203.0.113.5", at(9)).await,
        Err(LoginError::Invalid),
        "a disabled account does not log in"
    );
    store.change_staff(user.id, &StaffChange::Active(true), "staff:admin", at(10)).await.unwrap();
    let hash = app::staff::hash_password("otra frase bastante larga".into()).await;
    store.change_staff(user.id, &StaffChange::Password(hash), "staff:admin", at(11)).await.unwrap();
    authenticate(store, "cajera1", "otra frase bastante larga".into(), "203.0.113.5", at(12)).await.unwrap();
    let everyone = store.all_staff().await.unwrap();
    assert_eq!(everyone.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["cajera1"]);

    let unknown = app::domain::folio::Folio::parse("A-2026-000001").unwrap();
    assert_eq!(
        store.redeem_receipt(&unknown, "staff:cajera1", "Carla", "ventanilla", at(13)).await.unwrap(),
        app::store::RedeemOutcome::NotRedeemable
    );
    assert_eq!(store.redemption_of(&unknown).await.unwrap(), None);

    let changes = store.audit_entries("", "staff:admin", 10).await.unwrap();
    assert_eq!(changes.len(), 4, "roles, disabled, enabled, password");
    assert_eq!(store.audit_entries("staff.disabled", "", 10).await.unwrap().len(), 1);
    assert_eq!(store.audit_entries("staff.logout", "staff:cajera1", 10).await.unwrap().len(), 1);
    assert_eq!(store.verify_audit().await.unwrap().first_bad, None);
}

#[tokio::test]
async fn logins_lock_after_repeated_failures_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("staff.db").display())).await.unwrap();
    logins(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_lock_after_repeated_failures_on_postgres() {
    crate::store_story::on_fresh_postgres(
        "staff",
        |url| async move { logins(&Store::connect(&url).await.unwrap()).await },
    )
    .await;
}

// ------------------------------------------------------------- the pages

use crate::common::{spawn_app, TestApp};
use app::domain::staff::may;

/// A staff member with these roles, created in the test app's database.
pub(crate) async fn staff(app: &TestApp, name: &str, roles: &[Role]) {
    let username = Username::parse(name).unwrap();
    let display = format!("Persona {name}");
    create_staff(
        &app.store,
        &username,
        &display,
        Roles::new(roles.iter().copied()),
        PASSWORD.into(),
        "cli:test",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
}

/// The login form's CSRF cookie and token.
pub(crate) async fn login_form(app: &TestApp) -> (String, String) {
    let r = app.get("/personal/entrar").await;
    assert_eq!(r.status().as_u16(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = r.text().await.unwrap();
    let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (cookie, token)
}

/// Logs in through the form: the answer.
pub(crate) async fn post_login(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    let (cookie, token) = login_form(app).await;
    app.client
        .post(format!("{}/personal/entrar", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(format!("csrf={token}&usuario={user}&contrasena={}&volver=%2Fpersonal", crate::common::encode(password)))
        .send()
        .await
        .unwrap()
}

/// Logs in: the session cookie (`name=value`).
pub(crate) async fn session(app: &TestApp, user: &str) -> String {
    let r = post_login(app, user, PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303, "{user}");
    r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

pub(crate) async fn get_as(app: &TestApp, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{}", app.base, path));
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    request.send().await.unwrap()
}

/// The token of the forms of a logged-in page.
pub(crate) async fn page_token(app: &TestApp, cookie: &str) -> String {
    let html = get_as(app, "/personal", Some(cookie)).await.text().await.unwrap();
    html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

pub(crate) async fn post_as(app: &TestApp, path: &str, cookie: &str, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}{}", app.base, path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_login_opens_a_server_side_session_with_a_host_only_cookie_and_logout_ends_it() {
    let app = spawn_app().await;
    staff(&app, "cajera1", &[Role::Cajero]).await;

    // Without a session: to the login, which returns to the page asked for.
    let r = get_as(&app, "/personal", None).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/personal/entrar?volver=%2Fpersonal");

    // A wrong password: 401, the same words as an unknown user, no session.
    let r = post_login(&app, "cajera1", "no es esta").await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().contains("recauda_personal")));
    let html = r.text().await.unwrap();
    assert!(html.contains("Usuario o contraseña incorrectos.") && html.contains(r#"value="cajera1""#), "{html}");
    let r = post_login(&app, "nadie", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("Usuario o contraseña incorrectos."));

    // The right one: a new session id in a host-only, HttpOnly, Strict, Secure cookie.
    let r = post_login(&app, "cajera1", PASSWORD).await;
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/personal"));
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with("__Host-recauda_personal="), "{set}");
    for flag in ["Path=/", "HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
    assert!(!set.contains("Max-Age") && !set.contains("Domain"), "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let other = session(&app, "cajera1").await;
    assert_ne!(cookie, other, "every login mints a new id");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT id_hash FROM staff_sessions").fetch_all(app.store.pool()).await.unwrap();
    let raw = cookie.split_once('=').unwrap().1;
    assert!(!stored.iter().any(|h| h == raw), "only the hash of the id is stored");

    let r = get_as(&app, "/personal", Some(&cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("Persona cajera1 (cajera1)") && html.contains("Roles: Cajero(a)"), "{html}");
    assert!(!html.contains("Bitácora de auditoría"), "a cajero has no audit link");

    // Logging out needs the session's token.
    let r = post_as(&app, "/personal/salir", &cookie, "").await;
    assert_eq!(r.status().as_u16(), 403);
    let foreign = app.state.csrf_key.token_for(other.split_once('=').unwrap().1);
    let r = post_as(&app, "/personal/salir", &cookie, &format!("csrf={foreign}")).await;
    assert_eq!(r.status().as_u16(), 403, "another session's token");
    let token = page_token(&app, &cookie).await;
    let r = post_as(&app, "/personal/salir", &cookie, &format!("csrf={token}")).await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(get_as(&app, "/personal", Some(&cookie)).await.status().as_u16(), 303, "ended");
    assert_eq!(get_as(&app, "/personal", Some(&other)).await.status().as_u16(), 200, "the other session lives");

    // Everywhere: every session of the person ends.
    let third = session(&app, "cajera1").await;
    let token = page_token(&app, &third).await;
    let r = post_as(&app, "/personal/salir-todas", &third, &format!("csrf={token}")).await;
    assert_eq!(r.status().as_u16(), 303);
    for c in [&other, &third] {
        assert_eq!(get_as(&app, "/personal", Some(c)).await.status().as_u16(), 303);
    }
    let logouts = app.store.audit_entries("staff.logout", "staff:cajera1", 10).await.unwrap();
    assert_eq!(logouts.len(), 2);
}

#[tokio::test]
async fn sessions_end_when_idle_or_too_old_and_lockouts_show_on_the_login_page() {
    let app = spawn_app().await;
    staff(&app, "revisor1", &[Role::Revisor]).await;
    let now = chrono::Utc::now();
    let logged = app::staff::log_in(&app.store, "revisor1", PASSWORD.into(), "127.0.0.1", BROWSER, now)
        .await
        .unwrap()
        .into_session()
        .unwrap();
    let id = logged.session_id.as_str();
    let at = |m: i64| now + Duration::minutes(m);
    assert!(app::staff::session_user(&app.store, id, at(29)).await.unwrap().is_some());
    // Used at minute 29: alive until minute 59, not 60.
    assert!(app::staff::session_user(&app.store, id, at(58)).await.unwrap().is_some());
    assert!(app::staff::session_user(&app.store, id, at(58 + 31)).await.unwrap().is_none(), "idle for 31 minutes");
    // Used every 20 minutes: still ends 12 hours after the login.
    let logged = app::staff::log_in(&app.store, "revisor1", PASSWORD.into(), "127.0.0.1", BROWSER, now)
        .await
        .unwrap()
        .into_session()
        .unwrap();
    let mut m = 0;
    while m < 12 * 60 - 20 {
        m += 20;
        assert!(app::staff::session_user(&app.store, &logged.session_id, at(m)).await.unwrap().is_some(), "{m}");
    }
    assert!(app::staff::session_user(&app.store, &logged.session_id, at(12 * 60)).await.unwrap().is_none());
    assert!(app::staff::session_user(&app.store, "not-an-id", now).await.unwrap().is_none());

    for _ in 0..LOCK_AFTER_FAILURES - 1 {
        assert_eq!(post_login(&app, "revisor1", "adivinando mal").await.status().as_u16(), 401);
    }
    let r = post_login(&app, "revisor1", "adivinando mal").await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("La cuenta quedó bloqueada"));
    let r = post_login(&app, "revisor1", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 403, "even the right password while locked");
}

/// Every staff route names its roles; everyone else is refused: without a
/// session, to the login (303; a staff API route 401); with one but without
/// the role, 403.
#[tokio::test]
async fn the_permission_matrix_refuses_everyone_a_route_does_not_name() {
    let app = spawn_app().await;
    let people =
        [("caja", Role::Cajero), ("revision", Role::Revisor), ("tesoreria", Role::Tesorero), ("sistemas", Role::Admin)];
    for (name, role) in people {
        staff(&app, name, &[role]).await;
    }
    // (method, path, the roles it admits); PHOTO: the desk's multipart photo form
    let routes: [(&str, &str, &[Role]); 55] = [
        ("GET", "/personal/admin/personal", may::MANAGE_STAFF),
        ("POST", "/personal/admin/personal", may::MANAGE_STAFF),
        ("POST", "/personal/admin/personal/caja/estado", may::MANAGE_STAFF),
        ("GET", "/personal", may::ENTER),
        ("GET", "/personal/bitacora", may::READ_AUDIT),
        ("GET", "/personal/caja/verificar", may::VERIFY_RECEIPTS),
        ("PHOTO", "/personal/caja/verificar/foto", may::VERIFY_RECEIPTS),
        ("POST", "/personal/caja/canjear", may::REDEEM),
        ("JSON", "/api/v1/receipts/A-2026-000001/redeem", may::REDEEM),
        ("POST", "/personal/salir", may::ENTER),
        ("POST", "/personal/salir-todas", may::ENTER),
        ("GET", "/personal/cuenta/2fa", may::ENTER),
        ("POST", "/personal/cuenta/2fa", may::ENTER),
        ("POST", "/personal/cuenta/2fa/desactivar", may::ENTER),
        ("POST", "/personal/admin/personal/caja/2fa", may::MANAGE_STAFF),
        // The caja (server::caja).
        ("GET", "/personal/caja", may::WORK_TILL),
        ("POST", "/personal/caja/abrir", may::WORK_TILL),
        ("GET", "/personal/caja/cobrar?q=P-000002", may::WORK_TILL),
        ("POST", "/personal/caja/orden", may::WORK_TILL),
        ("GET", "/personal/caja/orden/00000000000000000000000000000000", may::WORK_TILL),
        ("POST", "/personal/caja/orden/00000000000000000000000000000000/cobrar", may::WORK_TILL),
        ("GET", "/personal/caja/recibo/C1-2026-000001", may::SEE_CORTES),
        ("GET", "/personal/caja/recibo/C1-2026-000001/ticket", may::SEE_CORTES),
        ("GET", "/personal/caja/corte", may::WORK_TILL),
        ("POST", "/personal/caja/corte", may::WORK_TILL),
        ("GET", "/personal/caja/corte/1", may::SEE_CORTES),
        ("POST", "/personal/caja/corte/1/explicacion", may::WORK_TILL),
        ("GET", "/personal/caja/corte/1/pdf", may::SEE_CORTES),
        ("GET", "/personal/tesoreria/cortes", may::TREASURY),
        ("POST", "/personal/tesoreria/cortes/1/aprobar", may::TREASURY),
        ("GET", "/personal/tesoreria/cheques", may::TREASURY),
        ("POST", "/personal/tesoreria/cheques", may::TREASURY),
        ("GET", "/personal/tesoreria/exportar", may::TREASURY),
        ("GET", "/personal/tesoreria/exportar.csv?desde=2026-11-01&hasta=2026-11-30", may::TREASURY),
        ("APIGET", "/api/v1/exports/collections.csv?from=2026-11-01&to=2026-11-30", may::TREASURY),
        ("GET", "/personal/cancelaciones", may::REQUEST_CANCELLATION),
        ("POST", "/personal/cancelaciones", may::REQUEST_CANCELLATION),
        ("POST", "/personal/cancelaciones/1/aprobar", may::TREASURY),
        ("POST", "/personal/cancelaciones/1/rechazar", may::TREASURY),
        // The reconciliation with Stripe (server::reconciliation).
        ("GET", "/personal/tesoreria/conciliacion", may::TREASURY),
        ("POST", "/personal/tesoreria/conciliacion", may::TREASURY),
        ("GET", "/personal/tesoreria/conciliacion/po_x", may::TREASURY),
        ("GET", "/personal/tesoreria/conciliacion/po_x.csv", may::TREASURY),
        ("POST", "/personal/tesoreria/conciliacion/po_x/aplicar", may::TREASURY),
        // Garbage collection (server::garbage).
        ("GET", "/personal/tesoreria/basura", may::TREASURY),
        ("POST", "/personal/tesoreria/basura/alta", may::TREASURY),
        ("POST", "/personal/tesoreria/basura/multa", may::TREASURY),
        ("POST", "/personal/tesoreria/basura/servicio", may::TREASURY),
        // The review of permit requests (server::permits).
        ("GET", "/personal/revision", may::REVIEW_PERMITS),
        ("GET", "/personal/revision/00000000000000000000000000000000", may::REVIEW_PERMITS),
        ("GET", "/personal/revision/00000000000000000000000000000000/documento?id=1", may::REVIEW_PERMITS),
        ("POST", "/personal/revision/00000000000000000000000000000000/tomar", may::REVIEW_PERMITS),
        ("POST", "/personal/revision/00000000000000000000000000000000/corregir", may::REVIEW_PERMITS),
        ("POST", "/personal/revision/00000000000000000000000000000000/aprobar", may::REVIEW_PERMITS),
        ("POST", "/personal/revision/00000000000000000000000000000000/rechazar", may::REVIEW_PERMITS),
    ];
    let json_post = |path: &str, cookie: Option<&str>| {
        let mut r = app.client.post(format!("{}{}", app.base, path)).json(&serde_json::json!({ "s": "x" }));
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.send()
    };
    for (method, path, allowed) in routes {
        let anonymous = match method {
            "GET" | "APIGET" => get_as(&app, path, None).await,
            "JSON" => json_post(path, None).await.unwrap(),
            _ => post_as(&app, path, "x=1", "csrf=0").await,
        };
        if method == "JSON" || method == "APIGET" {
            assert_eq!(anonymous.status().as_u16(), 401, "{path} without a session");
            let body: serde_json::Value = anonymous.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized");
        } else {
            assert_eq!(anonymous.status().as_u16(), 303, "{method} {path} without a session");
            assert!(anonymous.headers()["location"].to_str().unwrap().starts_with("/personal/entrar"));
        }
        for (name, role) in people {
            let cookie = session(&app, name).await;
            let answer = match method {
                "GET" | "APIGET" => get_as(&app, path, Some(&cookie)).await,
                "JSON" => json_post(path, Some(&cookie)).await.unwrap(),
                "PHOTO" => {
                    let token = page_token(&app, &cookie).await;
                    post_photo(&app, Some(&cookie), Some(&token), Some(("foto.png", "image/png", b"x"))).await
                }
                _ => {
                    let token = page_token(&app, &cookie).await;
                    post_as(&app, path, &cookie, &format!("csrf={token}")).await
                }
            };
            let status = answer.status().as_u16();
            if allowed.contains(&role) {
                assert!(![401, 403].contains(&status), "{method} {path} as {role}: {status}");
                if status == 303 {
                    assert!(!answer.headers()["location"].to_str().unwrap().starts_with("/personal/entrar?"));
                }
            } else {
                assert_eq!(status, 403, "{method} {path} as {role}");
                let body = answer.text().await.unwrap();
                assert!(body.contains(r#"data-code="forbidden""#) || body.contains(r#""code":"forbidden""#), "{body}");
            }
        }
    }
}

#[tokio::test]
async fn the_audit_page_lists_filters_and_checks_the_trail() {
    let app = spawn_app().await;
    staff(&app, "tesorera", &[Role::Tesorero]).await;
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "P-000002" })).await;
    assert_eq!(status, 201);
    crate::common::pay_as_stripe(&app, order["id"].as_str().unwrap()).await;
    let cookie = session(&app, "tesorera").await;
    let html = get_as(&app, "/personal", Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains(r#"href="/personal/bitacora""#));

    let html = get_as(&app, "/personal/bitacora", Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("Cadena íntegra"), "{html}");
    for action in ["padron.imported", "payment.applied", "receipt.issued", "staff.created", "staff.login"] {
        assert!(html.contains(action), "{action}");
    }
    let html = get_as(&app, "/personal/bitacora?accion=payment.applied&actor=stripe", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(html.matches("<tr>").count(), 1 + 1, "the header and one entry: {html}");
    assert!(!html.contains("receipt.issued</td>"));

    sqlx::query("UPDATE audit_log SET details = '{}' WHERE action = 'payment.applied'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let html = get_as(&app, "/personal/bitacora", Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("Bitácora ALTERADA desde la entrada 3"), "{html}");
}

// ------------------------------------------------------------ the desk

/// A paid receipt: its folio and the URL its QR code holds.
async fn paid_receipt(app: &TestApp, account: &str) -> (String, String) {
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": account })).await;
    assert_eq!(status, 201, "{order}");
    let token = order["id"].as_str().unwrap().to_string();
    crate::common::pay_as_stripe(app, &token).await;
    let id = crate::common::order_id(app, &token).await;
    let receipt = app.store.receipt_of_order(id).await.unwrap().unwrap();
    (receipt.folio.to_string(), app::receipts::verify_url(&app.state, &receipt).unwrap())
}

fn encoded(s: &str) -> String {
    crate::common::encode(s)
}

#[tokio::test]
async fn the_desk_checks_what_a_scanner_types_and_redeems_a_receipt_once() {
    let app = spawn_app().await;
    staff(&app, "cajera1", &[Role::Cajero]).await;
    staff(&app, "cajera2", &[Role::Cajero]).await;
    let (folio, url) = paid_receipt(&app, "P-000002").await;
    let cookie = session(&app, "cajera1").await;

    let html = get_as(&app, "/personal", Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains(r#"href="/personal/caja/verificar""#));
    let r = get_as(&app, "/personal/caja/verificar", Some(&cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-testid="desk-input""#) && html.contains("autofocus"), "{html}");

    // What the scanner types: the URL, then Enter (the form's GET).
    let html = get_as(&app, &format!("/personal/caja/verificar?url={}", encoded(&url)), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-verdict="authentic""#) && html.contains("Recibo auténtico"), "{html}");
    assert!(html.contains("$640.00") && html.contains(&folio), "{html}");
    assert!(!html.contains("María Peña Núñez"), "the name is masked");
    assert!(html.contains(r#"data-testid="redeem""#));

    // Redeemed once…
    let s = url.split("s=").nth(1).unwrap().to_string();
    let token = page_token(&app, &cookie).await;
    let body = format!("csrf={token}&folio={folio}&s={}", encoded(&s));
    let r = post_as(&app, "/personal/caja/canjear", &cookie, &body).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Entregado: el recibo quedó canjeado.") && html.contains("Persona cajera1 (cajera1)"),
        "{html}"
    );
    assert!(!html.contains(r#"data-testid="redeem""#), "no second button");

    // …and refused to everyone after, saying when, where and by whom.
    let other = session(&app, "cajera2").await;
    let token = page_token(&app, &other).await;
    let r =
        post_as(&app, "/personal/caja/canjear", &other, &format!("csrf={token}&folio={folio}&s={}", encoded(&s))).await;
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("YA SE CANJEÓ")
            && html.contains("por Persona cajera1 (cajera1)")
            && html.contains("ventanilla 127.0.0.1"),
        "{html}"
    );
    let html = get_as(&app, &format!("/personal/caja/verificar?url={}", encoded(&url)), Some(&other))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-testid="desk-redeemed""#), "the verdict shows the redemption");

    // An altered code: forged, nothing to hand over; garbage: a clear message.
    let forged = url.replace(&s[..4], "AAAA");
    let html = get_as(&app, &format!("/personal/caja/verificar?url={}", encoded(&forged)), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-verdict="forged""#) && !html.contains(r#"data-testid="redeem""#), "{html}");
    let token = page_token(&app, &cookie).await;
    let r = post_as(&app, "/personal/caja/canjear", &cookie, &format!("csrf={token}&folio={folio}&s=AAAA")).await;
    assert_eq!(r.status().as_u16(), 422);
    let html = get_as(&app, "/personal/caja/verificar?url=hola", Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="desk-error""#), "{html}");
    // Without the session's token: refused.
    let r = post_as(&app, "/personal/caja/canjear", &cookie, &format!("folio={folio}&s={}", encoded(&s))).await;
    assert_eq!(r.status().as_u16(), 403);

    let redeemed = app.store.audit_entries("receipt.redeemed", "staff:cajera1", 10).await.unwrap();
    assert_eq!(redeemed.len(), 1);
}

// ------------------------------------------------- the desk's camera

/// `text` as a QR code of `module` px per module, at (`x`, `y`) of `canvas`.
fn draw_qr(canvas: &mut image::GrayImage, text: &str, module: u32, x: u32, y: u32) {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let n = code.width() as u32;
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == qrcode::Color::Dark {
            let (mx, my) = (i as u32 % n, i as u32 / n);
            for dy in 0..module {
                for dx in 0..module {
                    canvas.put_pixel(x + mx * module + dx, y + my * module + dy, image::Luma([0]));
                }
            }
        }
    }
}

/// A photo-like picture: `w`×`h`, light grain (a photo of paper is never
/// flat, and it makes the file larger than the other routes' body limit),
/// `text`'s QR code of `module` px per module in it (none when `text` is
/// empty), encoded as `format`.
fn photo(text: &str, module: u32, w: u32, h: u32, format: image::ImageFormat) -> Vec<u8> {
    let mut seed: u32 = 0x2545_f491;
    let mut canvas = image::GrayImage::from_fn(w, h, |_, _| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        image::Luma([200 + (seed >> 27) as u8])
    });
    if !text.is_empty() {
        draw_qr(&mut canvas, text, module, w / 3, h / 4);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    canvas.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// POSTs the desk's photo form (multipart, built by hand): the session
/// cookie, the `csrf` field and the file `foto` (name, declared type, bytes).
async fn post_photo(
    app: &TestApp,
    cookie: Option<&str>,
    csrf: Option<&str>,
    file: Option<(&str, &str, &[u8])>,
) -> reqwest::Response {
    let boundary = "----recauda-prueba-7d1f";
    let mut body = Vec::new();
    if let Some(token) = csrf {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n").as_bytes(),
        );
    }
    if let Some((name, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"foto\"; filename=\"{name}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut request = app
        .client
        .post(format!("{}/personal/caja/verificar/foto", app.base))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body);
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    request.send().await.unwrap()
}

/// The text of the desk's error box.
fn desk_error(html: &str) -> String {
    let after = html.split(r#"data-testid="desk-error""#).nth(1).unwrap_or("");
    after.split_once("<p>").and_then(|(_, rest)| rest.split("</p>").next()).unwrap_or("").into()
}

#[tokio::test]
async fn a_photo_of_the_qr_code_gets_the_same_verdict_as_the_scanner() {
    let app = spawn_app().await;
    staff(&app, "cajera1", &[Role::Cajero]).await;
    staff(&app, "tesorera", &[Role::Tesorero]).await;
    let (folio, url) = paid_receipt(&app, "P-000002").await;
    let cookie = session(&app, "cajera1").await;
    let token = page_token(&app, &cookie).await;

    // A PNG, declared as anything at all: the bytes decide.
    let png = photo(&url, 8, 1000, 800, image::ImageFormat::Png);
    let r = post_photo(&app, Some(&cookie), Some(&token), Some(("recibo.txt", "text/plain", &png))).await;
    // Read, then on to the desk's own GET (a reload never posts it again).
    assert_eq!(r.status().as_u16(), 303);
    let r = get_as(&app, r.headers()["location"].to_str().unwrap(), Some(&cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-verdict="authentic""#) && html.contains("Recibo auténtico"), "{html}");
    assert!(html.contains(&folio) && html.contains("$640.00"), "{html}");
    assert!(html.contains(r#"data-testid="redeem""#), "a cajero may hand it over from here");
    assert!(html.contains(&format!(r#"value="{}""#, url.replace('&', "&amp;"))), "the field shows what was read");

    // A phone's JPEG, larger than every other route's body limit and than
    // the side the code is looked for at (downsized first).
    let jpeg = photo(&url, 10, 2400, 1800, image::ImageFormat::Jpeg);
    assert!(jpeg.len() > server::security::MAX_BODY_BYTES, "{} bytes", jpeg.len());
    let tesorera = session(&app, "tesorera").await;
    let token_t = page_token(&app, &tesorera).await;
    let r = post_photo(&app, Some(&tesorera), Some(&token_t), Some(("IMG_0001.JPG", "image/jpeg", &jpeg))).await;
    assert_eq!(r.status().as_u16(), 303);
    let r = get_as(&app, r.headers()["location"].to_str().unwrap(), Some(&tesorera)).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-verdict="authentic""#) && html.contains(&folio), "{html}");
    assert!(!html.contains(r#"data-testid="redeem""#), "a tesorero verifies, does not hand over");

    // A code that is not a receipt's: the same words as typed.
    let other = "https://ejemplo.mx/promocion";
    let typed = get_as(&app, &format!("/personal/caja/verificar?url={}", encoded(other)), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let png = photo(other, 8, 800, 800, image::ImageFormat::Png);
    let r = post_photo(&app, Some(&cookie), Some(&token), Some(("qr.png", "image/png", &png))).await;
    assert_eq!(r.status().as_u16(), 303);
    let r = get_as(&app, r.headers()["location"].to_str().unwrap(), Some(&cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(!desk_error(&typed).is_empty(), "{typed}");
    assert_eq!(desk_error(&html), desk_error(&typed), "{html}");
}

#[tokio::test]
async fn a_photo_without_a_code_a_file_that_is_not_a_photo_and_an_oversized_one_are_refused_clearly() {
    let app = spawn_app().await;
    staff(&app, "cajera1", &[Role::Cajero]).await;
    staff(&app, "revisora", &[Role::Revisor]).await;
    let (_, url) = paid_receipt(&app, "P-000002").await;
    let cookie = session(&app, "cajera1").await;
    let token = page_token(&app, &cookie).await;

    // No code in the photo: 422, and the desk to try again.
    let blank = photo("", 0, 800, 600, image::ImageFormat::Png);
    let r = post_photo(&app, Some(&cookie), Some(&token), Some(("foto.png", "image/png", &blank))).await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert_eq!(desk_error(&html), "No encontramos un código QR en la foto. Acérquese y evite reflejos.", "{html}");
    assert!(html.contains(r#"data-testid="desk-photo-form""#));

    // Text named .jpg and declared a JPEG: refused by its bytes.
    let text = format!("Esto no es una foto: {url}").into_bytes();
    let r = post_photo(&app, Some(&cookie), Some(&token), Some(("recibo.jpg", "image/jpeg", &text))).await;
    assert_eq!(r.status().as_u16(), 415);
    assert!(desk_error(&r.text().await.unwrap()).starts_with("El archivo no es una foto JPEG o PNG."));
    // A JPEG's first bytes and nothing after them.
    let r =
        post_photo(&app, Some(&cookie), Some(&token), Some(("a.jpg", "image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]))).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(desk_error(&r.text().await.unwrap()).contains("dañado"));
    // No file chosen.
    let r = post_photo(&app, Some(&cookie), Some(&token), Some(("", "application/octet-stream", b""))).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(desk_error(&r.text().await.unwrap()).contains("Elija o tome una foto"));

    // Over 8 MiB: 413 in the error shape, whether found while reading the
    // file or declared by the body's length.
    let mut big = photo(&url, 8, 800, 800, image::ImageFormat::Jpeg);
    big.resize(server::security::MAX_PHOTO_BYTES + 1, 0);
    let r = post_photo(&app, Some(&cookie), Some(&token), Some(("grande.jpg", "image/jpeg", &big))).await;
    assert_eq!(r.status().as_u16(), 413);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-code="payload_too_large""#) && html.contains("La foto pesa más de 8 MB"), "{html}");
    big.resize(server::security::MAX_PHOTO_BODY_BYTES + 1, 0);
    let r = post_photo(&app, Some(&cookie), Some(&token), Some(("grande.jpg", "image/jpeg", &big))).await;
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.text().await.unwrap().contains(r#"data-code="payload_too_large""#));

    // Without the session's token, or with another session's: 403, nothing read.
    let png = photo(&url, 8, 800, 800, image::ImageFormat::Png);
    let file = Some(("foto.png", "image/png", png.as_slice()));
    let r = post_photo(&app, Some(&cookie), None, file).await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains(r#"data-code="csrf""#));
    let revisora = session(&app, "revisora").await;
    let foreign = page_token(&app, &revisora).await;
    assert_eq!(post_photo(&app, Some(&cookie), Some(&foreign), file).await.status().as_u16(), 403);
    // A role without the desk: 403; no session: to the login.
    let r = post_photo(&app, Some(&revisora), Some(&foreign), file).await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains(r#"data-code="forbidden""#));
    let r = post_photo(&app, None, Some(&token), file).await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/personal/entrar?volver="));
    // Not a multipart body: 400 in the error shape; a GET: 405.
    let r = post_as(&app, "/personal/caja/verificar/foto", &cookie, &format!("csrf={token}")).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains(r#"data-code="invalid_form""#));
    let r = get_as(&app, "/personal/caja/verificar/foto", Some(&cookie)).await;
    assert_eq!(r.status().as_u16(), 405);

    // And the other routes keep their own limit.
    let r = post_as(&app, "/personal/caja/canjear", &cookie, &"x".repeat(server::security::MAX_BODY_BYTES + 1)).await;
    assert_eq!(r.status().as_u16(), 413);
}

/// The camera is the desk's alone: its script, and the camera permission,
/// on the desk page only; the citizen's pages neither load nor allow it.
#[tokio::test]
async fn the_desk_page_loads_the_camera_script_and_the_citizen_pages_do_not() {
    let app = spawn_app().await;
    staff(&app, "cajera1", &[Role::Cajero]).await;
    let cookie = session(&app, "cajera1").await;
    let script = app::ui::staff_pages::DESK_CAMERA_SCRIPT;
    assert_eq!(script, "/js/desk-camera.js");

    let r = get_as(&app, "/personal/caja/verificar", Some(&cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["permissions-policy"], "camera=(self), microphone=(), geolocation=(), payment=()");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(r#"<script src="{script}" defer"#)), "{html}");
    assert!(!html.contains("<script>") && !html.contains("recauda.wasm"), "no inline script, no wasm: {html}");
    // The camera's controls wait hidden for the script; the photo form
    // works without it.
    assert!(html.contains(r#"id="desk-camera" data-testid="desk-camera" hidden"#), "{html}");
    assert!(
        html.contains("Escanear con la cámara") && html.contains("Cancelar") && html.contains(r#"aria-live="polite""#)
    );
    for needed in [
        r#"action="/personal/caja/verificar/foto" enctype="multipart/form-data""#,
        r#"type="file" accept="image/*" capture="environment""#,
        r#"name="foto""#,
    ] {
        assert!(html.contains(needed), "{needed}: {html}");
    }
    let token = html.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap();
    assert!(app.state.csrf_key.accepts(cookie.split_once('=').unwrap().1, token));

    for path in ["/", "/consulta", "/consulta?cuenta=P-000002", "/verificar", "/personal"] {
        let r = get_as(&app, path, Some(&cookie)).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert!(r.headers()["permissions-policy"].to_str().unwrap().starts_with("camera=()"), "{path}");
        let html = r.text().await.unwrap();
        assert!(!html.contains("desk-camera"), "{path} does not load the desk's camera");
    }

    // The script is a static asset (cargo-leptos copies `public/` into the
    // site): served as JavaScript, from this origin.
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/js/desk-camera.js");
    let js = std::fs::read_to_string(&source).unwrap();
    assert!(js.contains("BarcodeDetector") && js.contains("getTracks") && js.contains("pagehide"));
    std::fs::create_dir_all(app.settings.site_root.join("js")).unwrap();
    std::fs::copy(&source, app.settings.site_root.join("js/desk-camera.js")).unwrap();
    let r = app.get(script).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"), "{:?}", r.headers());
    assert_eq!(r.text().await.unwrap(), js);
}

/// The API: 200 once, then 409 for every later call; of many at once,
/// exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_redeem_api_answers_200_once_then_409_and_one_of_many_at_once_wins() {
    let app = spawn_app().await;
    staff(&app, "cajera1", &[Role::Cajero]).await;
    let cookie = session(&app, "cajera1").await;
    let call = |folio: String, s: String, cookie: String| {
        let client = app.client.clone();
        let base = app.base.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/receipts/{folio}/redeem"))
                .header("cookie", cookie)
                .json(&serde_json::json!({ "s": s, "where": "Ventanilla 2" }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (folio, url) = paid_receipt(&app, "P-000002").await;
    let s = url.split("s=").nth(1).unwrap().to_string();
    let (status, body) = call(folio.clone(), s.clone(), cookie.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["redeemed_where"].as_str(), body["redeemed_by"].as_str()),
        (Some("Ventanilla 2"), Some("Persona cajera1 (cajera1)"))
    );
    for _ in 0..2 {
        let (status, body) = call(folio.clone(), s.clone(), cookie.clone()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (409, Some("already_redeemed")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("Ventanilla 2"), "{body}");
    }
    let (status, body) = call(folio.clone(), "AAAA".into(), cookie.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("not_redeemable")), "an altered code: {body}");

    // Eight desks at once on a fresh receipt: exactly one wins.
    let (folio, url) = paid_receipt(&app, "A-000003").await;
    let s = url.split("s=").nth(1).unwrap().to_string();
    let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(call(folio.clone(), s.clone(), cookie.clone()))).collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().0);
    }
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
}

// ------------------------------------------------------------ the admin

#[tokio::test]
async fn an_admin_creates_accounts_changes_roles_disables_and_resets_from_the_page() {
    let app = spawn_app().await;
    staff(&app, "jefa", &[Role::Admin]).await;
    let admin = session(&app, "jefa").await;
    let html = get_as(&app, "/personal", Some(&admin)).await.text().await.unwrap();
    assert!(html.contains(r#"href="/personal/admin/personal""#));
    let r = get_as(&app, "/personal/admin/personal", Some(&admin)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains(r#"data-testid="staff-jefa""#));
    let form = |extra: &str| format!("csrf={}&{extra}", app.state.csrf_key.token_for(admin.split_once('=').unwrap().1));

    // Create: refused with reasons, then created.
    let r = post_as(
        &app,
        "/personal/admin/personal",
        &admin,
        &form("usuario=caja2&nombre=Beto&rol=cajero&contrasena=corta"),
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("al menos 12 caracteres"));
    let r = post_as(
        &app,
        "/personal/admin/personal",
        &admin,
        &form("usuario=caja2&nombre=Beto&contrasena=una+frase+larga"),
    )
    .await;
    assert_eq!(r.status().as_u16(), 422, "no role");
    let body = form("usuario=caja2&nombre=Beto+Caja&rol=cajero&contrasena=una+frase+larga+y+secreta");
    let r = post_as(&app, "/personal/admin/personal", &admin, &body).await;
    assert_eq!(r.status().as_u16(), 201);
    assert!(r.text().await.unwrap().contains("Cuenta «caja2» creada."));
    let r = post_as(&app, "/personal/admin/personal", &admin, &body).await;
    assert!(r.text().await.unwrap().contains("ya existe un usuario «caja2»"));
    let login = |password: &'static str| post_login(&app, "caja2", password);
    assert_eq!(login("una frase larga y secreta").await.status().as_u16(), 303);

    // Roles: a tesorero now reads the audit trail.
    let beto = session_with(&app, "caja2", "una frase larga y secreta").await;
    assert_eq!(get_as(&app, "/personal/bitacora", Some(&beto)).await.status().as_u16(), 403);
    let r = post_as(&app, "/personal/admin/personal/caja2/roles", &admin, &form("rol=cajero&rol=tesorero")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(get_as(&app, "/personal/bitacora", Some(&beto)).await.status().as_u16(), 200);

    // Disabled: the session ends at once and logins are refused; enabled again.
    let r = post_as(&app, "/personal/admin/personal/caja2/estado", &admin, &form("activa=0")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(get_as(&app, "/personal", Some(&beto)).await.status().as_u16(), 303);
    assert_eq!(login("una frase larga y secreta").await.status().as_u16(), 401);
    post_as(&app, "/personal/admin/personal/caja2/estado", &admin, &form("activa=1")).await;
    let beto = session_with(&app, "caja2", "una frase larga y secreta").await;

    // Reset: sessions end, the old password no longer opens.
    let r =
        post_as(&app, "/personal/admin/personal/caja2/contrasena", &admin, &form("contrasena=otra+frase+nueva+larga"))
            .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(get_as(&app, "/personal", Some(&beto)).await.status().as_u16(), 303);
    assert_eq!(login("una frase larga y secreta").await.status().as_u16(), 401);
    assert_eq!(login("otra frase nueva larga").await.status().as_u16(), 303);

    // An admin cannot lock the treasury out: not their own admin role, not their own account.
    let r = post_as(&app, "/personal/admin/personal/jefa/roles", &admin, &form("rol=cajero")).await;
    assert_eq!(r.status().as_u16(), 422);
    let r = post_as(&app, "/personal/admin/personal/jefa/estado", &admin, &form("activa=0")).await;
    assert_eq!(r.status().as_u16(), 422);
    // Without the session's token: refused.
    let r = post_as(&app, "/personal/admin/personal/caja2/estado", &admin, "activa=0").await;
    assert_eq!(r.status().as_u16(), 403);

    let actions: Vec<String> =
        app.store.audit_entries("", "staff:jefa", 50).await.unwrap().into_iter().map(|e| e.action).collect();
    for a in ["staff.created", "staff.roles_changed", "staff.disabled", "staff.enabled", "staff.password_reset"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

/// Logs in with `password`: the session cookie.
pub(crate) async fn session_with(app: &TestApp, user: &str, password: &str) -> String {
    let r = post_login(app, user, password).await;
    assert_eq!(r.status().as_u16(), 303, "{user}");
    r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}
