//! The staff's TOTP second factor: enrolment (a secret offered, confirmed
//! by a code), the code asked after a right password (no session before
//! it), replayed and wrong codes (refused, counted towards the lockout),
//! turning it off, an admin's reset, and the municipality file making a
//! role enrol before anything else.
//!
//! The library is tested at fixed instants (deterministic codes), on SQLite
//! and PostgreSQL; the pages at the server's real clock, with codes of the
//! current step and the next one (the window accepts one step either side).

use app::csrf::CsrfKey;
use app::domain::staff::{Role, Roles, Username};
use app::staff::{CodeError, LoginError, LoginStep, LOCK_AFTER_FAILURES};
use app::store::{StaffChange, Store};
use app::totp;
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::common::{spawn_app, spawn_app_with_municipality, TestApp};
use crate::staff::{get_as, page_token, post_as, session, staff, PASSWORD};

const ADDRESS: &str = "203.0.113.5";
const BROWSER: &str = "0123456789abcdef0123456789abcdef";
const OTHER_BROWSER: &str = "fedcba9876543210fedcba9876543210";
/// The staff session the enrolment happens in.
const SESSION: &str = "sesion-de-la-tesorera";

/// A 6-digit code that is none of the codes of the steps around `now`.
fn wrong_code(secret: &[u8], now: DateTime<Utc>) -> String {
    let step = totp::step_at(now);
    let valid: Vec<String> = (step - 2..=step + 2).map(|s| totp::code_at_step(secret, s)).collect();
    (0..).map(|n: u32| format!("{n:06}")).find(|c| !valid.contains(c)).unwrap()
}

fn pending(step: LoginStep) -> String {
    match step {
        LoginStep::Code(p) => p.token,
        LoginStep::Session(_) => panic!("a session without the code"),
    }
}

/// The second factor through the library, at fixed instants.
async fn second_factor(store: &Store) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 17, 0, 0).unwrap();
    let at = |seconds: i64| t0 + Duration::seconds(seconds);
    let name = Username::parse("tesorera").unwrap();
    app::staff::create_staff(store, &name, "Tere Tesorera", Roles::new([Role::Tesorero]), PASSWORD.into(), "cli", t0)
        .await
        .unwrap();
    let user = store.staff_by_username(&name).await.unwrap().unwrap();
    assert!(!user.totp_enabled());

    // Enrolment: the same secret on every reload of the session, derived,
    // never stored before a code confirms it; another session is offered
    // another; a wrong code changes nothing.
    let key = CsrfKey::new([7; 32]);
    let offer = app::staff::offer_totp(&key, &user, SESSION, "Recauda Loreto").unwrap();
    let again = app::staff::offer_totp(&key, &user, SESSION, "Recauda Loreto").unwrap();
    assert_eq!(offer, again, "reloading the page shows the same secret");
    let elsewhere = app::staff::offer_totp(&key, &user, "otra-sesion", "Recauda Loreto").unwrap();
    assert_ne!(offer.secret, elsewhere.secret);
    assert!(store.staff_by_id(user.id).await.unwrap().unwrap().totp.is_none(), "nothing written");
    assert!(offer.uri.starts_with("otpauth://totp/Recauda%20Loreto:tesorera?secret="), "{}", offer.uri);
    let secret = totp::decode_secret(&offer.secret).unwrap();
    assert_eq!(secret.len(), 20);
    let wrong = wrong_code(&secret, t0);
    assert_eq!(
        app::staff::enable_totp(store, &key, &user, SESSION, &offer.secret, &wrong, ADDRESS, t0).await,
        Err(CodeError::Wrong)
    );
    let other = totp::encode_secret(&totp::new_secret());
    let other_code = totp::code_at(&totp::decode_secret(&other).unwrap(), t0);
    assert_eq!(
        app::staff::enable_totp(store, &key, &user, SESSION, &other, &other_code, ADDRESS, t0).await,
        Err(CodeError::NotApplicable),
        "only the secret offered"
    );
    let elsewhere_code = totp::code_at(&totp::decode_secret(&elsewhere.secret).unwrap(), t0);
    assert_eq!(
        app::staff::enable_totp(store, &key, &user, SESSION, &elsewhere.secret, &elsewhere_code, ADDRESS, t0).await,
        Err(CodeError::NotApplicable),
        "only the secret offered in this session"
    );
    assert!(!store.staff_by_id(user.id).await.unwrap().unwrap().totp_enabled());
    app::staff::enable_totp(store, &key, &user, SESSION, &offer.secret, &totp::code_at(&secret, t0), ADDRESS, t0)
        .await
        .unwrap();
    let user = store.staff_by_id(user.id).await.unwrap().unwrap();
    assert_eq!((user.totp_enabled(), user.totp_last_step), (true, Some(totp::step_at(t0))));
    assert_eq!(format!("{:?}", user.totp), "Some(TotpSecret(***))", "never in logs");
    assert_eq!(app::staff::offer_totp(&key, &user, SESSION, "Recauda Loreto"), None);

    // The password alone opens no session; the code of the enrolment's step is used up.
    let token =
        pending(app::staff::log_in(store, "tesorera", PASSWORD.into(), ADDRESS, BROWSER, at(10)).await.unwrap());
    let code0 = totp::code_at(&secret, t0);
    assert_eq!(
        app::staff::log_in_with_code(store, &token, BROWSER, &code0, ADDRESS, at(10)).await.unwrap_err(),
        CodeError::Wrong,
        "a replayed code"
    );
    let code1 = totp::code_at(&secret, at(30));
    assert_eq!(
        app::staff::log_in_with_code(store, &token, OTHER_BROWSER, &code1, ADDRESS, at(30)).await.unwrap_err(),
        CodeError::Expired,
        "another browser"
    );
    let logged = app::staff::log_in_with_code(store, &token, BROWSER, &code1, ADDRESS, at(30)).await.unwrap();
    assert!(app::staff::session_user(store, &logged.session_id, at(31)).await.unwrap().is_some());
    let user = store.staff_by_id(user.id).await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.totp_last_step), (0, Some(totp::step_at(at(30)))), "a success resets");
    assert_eq!(
        app::staff::log_in_with_code(store, &token, BROWSER, &code1, ADDRESS, at(31)).await.unwrap_err(),
        CodeError::Expired,
        "a pending login is used once"
    );
    let token =
        pending(app::staff::log_in(store, "tesorera", PASSWORD.into(), ADDRESS, BROWSER, at(40)).await.unwrap());
    assert_eq!(
        app::staff::log_in_with_code(store, &token, BROWSER, &code1, ADDRESS, at(40)).await.unwrap_err(),
        CodeError::Wrong,
        "the code of a step already used, in another login"
    );
    let code2 = totp::code_at(&secret, at(60));
    app::staff::log_in_with_code(store, &token, BROWSER, &code2, ADDRESS, at(60)).await.unwrap();

    // A pending login lasts five minutes.
    let token =
        pending(app::staff::log_in(store, "tesorera", PASSWORD.into(), ADDRESS, BROWSER, at(90)).await.unwrap());
    let late = at(90 + 5 * 60 + 1);
    assert_eq!(
        app::staff::log_in_with_code(store, &token, BROWSER, &totp::code_at(&secret, late), ADDRESS, late)
            .await
            .unwrap_err(),
        CodeError::Expired
    );

    // Wrong codes count towards the lockout, like wrong passwords.
    let t1 = at(600);
    let token = pending(app::staff::log_in(store, "tesorera", PASSWORD.into(), ADDRESS, BROWSER, t1).await.unwrap());
    let wrong = wrong_code(&secret, t1);
    for _ in 1..LOCK_AFTER_FAILURES {
        assert_eq!(
            app::staff::log_in_with_code(store, &token, BROWSER, &wrong, ADDRESS, t1).await.unwrap_err(),
            CodeError::Wrong
        );
    }
    let until = t1 + Duration::minutes(app::staff::LOCK_MINUTES);
    assert_eq!(
        app::staff::log_in_with_code(store, &token, BROWSER, &wrong, ADDRESS, t1).await.unwrap_err(),
        CodeError::Locked { until }
    );
    assert_eq!(
        app::staff::log_in_with_code(store, &token, BROWSER, &totp::code_at(&secret, t1), ADDRESS, t1)
            .await
            .unwrap_err(),
        CodeError::Expired,
        "the lock ends the pending login"
    );
    assert_eq!(
        app::staff::log_in(store, "tesorera", PASSWORD.into(), ADDRESS, BROWSER, t1).await.unwrap_err(),
        LoginError::Locked { until }
    );

    // Turning it off: not while locked (a stolen session does not get to guess).
    let user = store.staff_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(
        app::staff::disable_totp(store, &user, &totp::code_at(&secret, t1), false, ADDRESS, t1).await,
        Err(CodeError::Locked { until })
    );
    // After the lock, a login with a code starts the count again…
    let t2 = until + Duration::minutes(1);
    let token = pending(app::staff::log_in(store, "tesorera", PASSWORD.into(), ADDRESS, BROWSER, t2).await.unwrap());
    app::staff::log_in_with_code(store, &token, BROWSER, &totp::code_at(&secret, t2), ADDRESS, t2).await.unwrap();
    // …and it is turned off with a current code, unless required.
    let user = store.staff_by_id(user.id).await.unwrap().unwrap();
    let t2b = t2 + Duration::seconds(30);
    let code = totp::code_at(&secret, t2b);
    assert_eq!(app::staff::disable_totp(store, &user, &code, true, ADDRESS, t2b).await, Err(CodeError::Required));
    assert_eq!(
        app::staff::disable_totp(store, &user, &wrong_code(&secret, t2b), false, ADDRESS, t2b).await,
        Err(CodeError::Wrong)
    );
    assert_eq!(
        app::staff::disable_totp(store, &user, &totp::code_at(&secret, t2), false, ADDRESS, t2b).await,
        Err(CodeError::Wrong),
        "the login's code, used"
    );
    app::staff::disable_totp(store, &user, &code, false, ADDRESS, t2b).await.unwrap();
    let user = store.staff_by_id(user.id).await.unwrap().unwrap();
    assert!(!user.totp_enabled());
    let step = app::staff::log_in(store, "tesorera", PASSWORD.into(), ADDRESS, BROWSER, t2b).await.unwrap();
    assert!(matches!(step, LoginStep::Session(_)), "the password alone again");

    // An admin's reset: the second factor off, the sessions ended.
    let offer = app::staff::offer_totp(&key, &user, SESSION, "Recauda Loreto").unwrap();
    assert_ne!(totp::decode_secret(&offer.secret).unwrap(), secret, "a new secret after turning it off");
    let secret = totp::decode_secret(&offer.secret).unwrap();
    let t3 = t2b + Duration::minutes(1);
    app::staff::enable_totp(store, &key, &user, SESSION, &offer.secret, &totp::code_at(&secret, t3), ADDRESS, t3)
        .await
        .unwrap();
    let token = pending(app::staff::log_in(store, "tesorera", PASSWORD.into(), ADDRESS, BROWSER, t3).await.unwrap());
    let t4 = t3 + Duration::seconds(30);
    let logged =
        app::staff::log_in_with_code(store, &token, BROWSER, &totp::code_at(&secret, t4), ADDRESS, t4).await.unwrap();
    store.change_staff(user.id, &StaffChange::ResetTotp, "staff:jefa", t4).await.unwrap();
    assert!(app::staff::session_user(store, &logged.session_id, t4).await.unwrap().is_none(), "sessions end");
    assert!(!store.staff_by_id(user.id).await.unwrap().unwrap().totp_enabled());

    let count = |action: &'static str| async move { store.audit_entries(action, "", 100).await.unwrap() };
    assert_eq!(count("staff.totp_enabled").await.len(), 2);
    assert_eq!(count("staff.totp_disabled").await.len(), 1);
    let reset = count("staff.totp_reset").await;
    assert_eq!((reset.len(), reset[0].actor.as_str()), (1, "staff:jefa"));
    let failed = count("staff.login_failed").await;
    let reason = |r: &str| failed.iter().filter(|e| e.details.contains(&format!("\"reason\":\"{r}\""))).count();
    assert_eq!(reason("totp_replay"), 3, "two at login, one turning it off");
    assert_eq!(reason("totp"), LOCK_AFTER_FAILURES as usize + 1, "five at login, one turning it off");
    let logins = count("staff.login").await;
    assert_eq!(logins.iter().filter(|e| e.details.contains("\"second_factor\":\"totp\"")).count(), 4);
    assert_eq!(store.verify_audit().await.unwrap().first_bad, None);
}

#[tokio::test]
async fn the_second_factor_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("totp.db").display())).await.unwrap();
    second_factor(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_factor_on_postgres() {
    crate::store_story::on_fresh_postgres("totp", |url| async move {
        second_factor(&Store::connect(&url).await.unwrap()).await
    })
    .await;
}

// ------------------------------------------------------------- the pages

/// The value of hidden field `name` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).unwrap_or_else(|| panic!("no field {name} in {html}")).split('"').next().unwrap().into()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.split_once('=').is_some_and(|(n, _)| n.ends_with(name)))
}

/// The current time step on the server's clock.
fn step_now() -> i64 {
    totp::step_at(Utc::now())
}

/// The password step of a login in a fresh browser: its CSRF cookie and the answer.
async fn password_step(app: &TestApp, user: &str, password: &str) -> (String, reqwest::Response) {
    let r = app.get("/personal/entrar").await;
    let cookie = cookie_of(&r, "recauda_csrf").expect("a browser session");
    let token = field(&r.text().await.unwrap(), "csrf");
    let body = format!(
        "csrf={token}&usuario={user}&contrasena={}&volver=%2Fpersonal%2Fbitacora",
        crate::common::encode(password)
    );
    (cookie.clone(), post_as(app, "/personal/entrar", &cookie, &body).await)
}

/// Sends `code` for the pending login of `page` (the code form), from the browser `cookie`.
async fn send_code(app: &TestApp, cookie: &str, page: &str, code: &str) -> reqwest::Response {
    let body =
        format!("csrf={}&pendiente={}&codigo={code}&volver=%2Fpersonal", field(page, "csrf"), field(page, "pendiente"));
    post_as(app, "/personal/entrar/codigo", cookie, &body).await
}

/// Enrols the person of session `cookie` through the page: the secret and
/// the step whose code confirmed it.
async fn enrol(app: &TestApp, cookie: &str) -> (Vec<u8>, i64) {
    let r = get_as(app, "/personal/cuenta/2fa", Some(cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    let secret = totp::decode_secret(&field(&html, "secreto")).unwrap();
    let step = step_now();
    let body = format!("csrf={}&secreto={}&codigo={}", field(&html, "csrf"), field(&html, "secreto"), {
        totp::code_at_step(&secret, step)
    });
    let r = post_as(app, "/personal/cuenta/2fa", cookie, &body).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("quedó activada"));
    (secret, step)
}

#[tokio::test]
async fn enrolment_then_every_login_asks_for_a_code_that_works_once() {
    let app = spawn_app().await;
    staff(&app, "tesorera", &[Role::Tesorero]).await;
    let cookie = session(&app, "tesorera").await;
    let html = get_as(&app, "/personal", Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains(r#"href="/personal/cuenta/2fa""#) && html.contains("(no activada)"), "{html}");

    // The enrolment page: a QR code and the secret as text, the same one on reload.
    let r = get_as(&app, "/personal/cuenta/2fa", Some(&cookie)).await;
    assert_eq!((r.status().as_u16(), r.headers()["cache-control"].to_str().unwrap()), (200, "no-store"));
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-testid="totp-qr""#) && html.contains("<svg"), "{html}");
    assert!(html.contains(r#"for="codigo""#) && html.contains(r#"autocomplete="one-time-code""#), "{html}");
    let secret_text = field(&html, "secreto");
    assert!(html.contains(&totp::grouped(&secret_text)), "the secret for manual entry");
    let again = get_as(&app, "/personal/cuenta/2fa", Some(&cookie)).await.text().await.unwrap();
    assert_eq!(field(&again, "secreto"), secret_text);
    let secret = totp::decode_secret(&secret_text).unwrap();

    // Without the session's token, or with another session's: refused, nothing changes.
    let code = totp::code_at_step(&secret, step_now());
    let r = post_as(&app, "/personal/cuenta/2fa", &cookie, &format!("secreto={secret_text}&codigo={code}")).await;
    assert_eq!(r.status().as_u16(), 403);
    let foreign = app.state.csrf_key.token_for(BROWSER);
    let body = format!("csrf={foreign}&secreto={secret_text}&codigo={code}");
    assert_eq!(post_as(&app, "/personal/cuenta/2fa", &cookie, &body).await.status().as_u16(), 403);
    // A wrong code: 422 with the error summary, still off.
    let token = page_token(&app, &cookie).await;
    let body = format!("csrf={token}&secreto={secret_text}&codigo={}", wrong_code(&secret, Utc::now()));
    let r = post_as(&app, "/personal/cuenta/2fa", &cookie, &body).await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-testid="error-summary""#) && html.contains("no es correcto"), "{html}");
    let user = app.store.staff_by_username(&Username::parse("tesorera").unwrap()).await.unwrap().unwrap();
    assert!(!user.totp_enabled());
    assert!(app.store.audit_entries("staff.totp_enabled", "", 10).await.unwrap().is_empty());

    // The right one: on, in the audit trail; the session goes on.
    let (secret, enrolled) = enrol(&app, &cookie).await;
    assert_eq!(get_as(&app, "/personal", Some(&cookie)).await.status().as_u16(), 200);
    let html = get_as(&app, "/personal/cuenta/2fa", Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("Estado: activada") && html.contains(r#"data-testid="totp-disable-form""#), "{html}");
    let enabled = app.store.audit_entries("staff.totp_enabled", "staff:tesorera", 10).await.unwrap();
    assert_eq!(enabled.len(), 1);

    // The password alone: the code form, no session.
    let (browser, r) = password_step(&app, "tesorera", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(cookie_of(&r, "recauda_personal"), None, "no session before the code");
    let code_page = r.text().await.unwrap();
    assert!(code_page.contains("Código de verificación") && code_page.contains(r#"name="pendiente""#));
    // The enrolment's code again: refused (used once), the form again.
    let r = send_code(&app, &browser, &code_page, &totp::code_at_step(&secret, enrolled)).await;
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(cookie_of(&r, "recauda_personal"), None);
    let html = r.text().await.unwrap();
    assert!(html.contains("ya se usó") && html.contains(r#"data-testid="error-summary""#), "{html}");
    // From another browser (another CSRF session): the pending login is not theirs.
    let (other_browser, _) = password_step(&app, "nadie", PASSWORD).await;
    let other_page = get_as(&app, "/personal/entrar", Some(&other_browser)).await.text().await.unwrap();
    let body = format!(
        "csrf={}&pendiente={}&codigo={}",
        field(&other_page, "csrf"),
        field(&code_page, "pendiente"),
        totp::code_at_step(&secret, enrolled + 1)
    );
    let r = post_as(&app, "/personal/entrar/codigo", &other_browser, &body).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("no es de este navegador"));
    // The next step's code: the session, then back to the page asked for.
    let next = totp::code_at_step(&secret, enrolled + 1);
    let r = send_code(&app, &browser, &code_page, &next).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/personal");
    let session = cookie_of(&r, "recauda_personal").expect("a session");
    assert_eq!(get_as(&app, "/personal", Some(&session)).await.status().as_u16(), 200);
    // The pending login is spent, and the same code in a new login is refused.
    let r = send_code(&app, &browser, &code_page, &next).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("Vuelva a escribir su"));
    let (browser, r) = password_step(&app, "tesorera", PASSWORD).await;
    let code_page = r.text().await.unwrap();
    let r = send_code(&app, &browser, &code_page, &next).await;
    assert_eq!(r.status().as_u16(), 401, "a replayed code");

    // (Replayed, or wrong should the clock have moved two steps on meanwhile.)
    let failed = app.store.audit_entries("staff.login_failed", "", 20).await.unwrap();
    assert_eq!(failed.iter().filter(|e| e.details.contains("\"reason\":\"totp")).count(), 2, "{failed:?}");
    let logins = app.store.audit_entries("staff.login", "staff:tesorera", 20).await.unwrap();
    assert_eq!(logins.iter().filter(|e| e.details.contains("\"second_factor\":\"totp\"")).count(), 1);
}

#[tokio::test]
async fn wrong_codes_count_towards_the_lockout() {
    let app = spawn_app().await;
    staff(&app, "revisora", &[Role::Revisor]).await;
    let cookie = session(&app, "revisora").await;
    let (secret, enrolled) = enrol(&app, &cookie).await;

    let (browser, r) = password_step(&app, "revisora", PASSWORD).await;
    let code_page = r.text().await.unwrap();
    let wrong = wrong_code(&secret, Utc::now());
    for _ in 1..LOCK_AFTER_FAILURES {
        let r = send_code(&app, &browser, &code_page, &wrong).await;
        assert_eq!(r.status().as_u16(), 401);
        assert!(r.text().await.unwrap().contains("El código no es correcto"));
    }
    let r = send_code(&app, &browser, &code_page, &wrong).await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("La cuenta quedó bloqueada"));
    // Even the right code, and the right password: refused until the lock ends.
    let r = send_code(&app, &browser, &code_page, &totp::code_at_step(&secret, enrolled + 1)).await;
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(cookie_of(&r, "recauda_personal"), None);
    let (_, r) = password_step(&app, "revisora", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 403);

    let failed = app.store.audit_entries("staff.login_failed", "", 20).await.unwrap();
    let by_code = failed.iter().filter(|e| e.details.contains("\"reason\":\"totp\"")).count();
    assert_eq!(by_code, LOCK_AFTER_FAILURES as usize);
}

#[tokio::test]
async fn turning_it_off_needs_a_current_code_and_an_admin_resets_it() {
    let app = spawn_app().await;
    staff(&app, "caja", &[Role::Cajero]).await;
    staff(&app, "revisora", &[Role::Revisor]).await;
    staff(&app, "jefa", &[Role::Admin]).await;

    // Turning it off: a wrong code and the enrolment's (used) code are refused.
    let cookie = session(&app, "caja").await;
    let (secret, enrolled) = enrol(&app, &cookie).await;
    let off = |code: String| {
        let cookie = cookie.clone();
        let app = &app;
        async move {
            let token = page_token(app, &cookie).await;
            post_as(app, "/personal/cuenta/2fa/desactivar", &cookie, &format!("csrf={token}&codigo={code}")).await
        }
    };
    let r = off(wrong_code(&secret, Utc::now())).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains(r#"data-testid="error-summary""#));
    assert_eq!(off(totp::code_at_step(&secret, enrolled)).await.status().as_u16(), 422);
    let r = post_as(
        &app,
        "/personal/cuenta/2fa/desactivar",
        &cookie,
        &format!("codigo={}", totp::code_at_step(&secret, enrolled + 1)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 403, "without the session's token");
    let r = off(totp::code_at_step(&secret, enrolled + 1)).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("quedó desactivada") && html.contains("Estado: no activada"), "{html}");
    assert_eq!(app.store.audit_entries("staff.totp_disabled", "staff:caja", 10).await.unwrap().len(), 1);
    let (_, r) = password_step(&app, "caja", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303, "the password alone again");

    // An admin resets someone's: their sessions end, the password alone opens.
    let revisora = session(&app, "revisora").await;
    enrol(&app, &revisora).await;
    let admin = session(&app, "jefa").await;
    let html = get_as(&app, "/personal/admin/personal", Some(&admin)).await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="reset-2fa-revisora""#) && !html.contains("reset-2fa-caja"), "{html}");
    let token = app.state.csrf_key.token_for(admin.split_once('=').unwrap().1);
    let r = post_as(&app, "/personal/admin/personal/revisora/2fa", &admin, "").await;
    assert_eq!(r.status().as_u16(), 403, "without the session's token");
    let r = post_as(&app, "/personal/admin/personal/caja/2fa", &admin, &format!("csrf={token}")).await;
    assert_eq!(r.status().as_u16(), 422, "caja has it off");
    let r = post_as(&app, "/personal/admin/personal/revisora/2fa", &admin, &format!("csrf={token}")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("Cuenta «revisora» actualizada."));
    assert_eq!(get_as(&app, "/personal", Some(&revisora)).await.status().as_u16(), 303, "the session ended");
    let (_, r) = password_step(&app, "revisora", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303);
    let reset = app.store.audit_entries("staff.totp_reset", "staff:jefa", 10).await.unwrap();
    assert_eq!(reset.len(), 1);
    assert_eq!(app.store.verify_audit().await.unwrap().first_bad, None);
}

#[tokio::test]
async fn a_role_the_municipality_names_enrols_before_anything_else() {
    let app = spawn_app_with_municipality("[staff]\nrequire_totp_for = [\"tesorero\", \"admin\"]").await;
    staff(&app, "caja", &[Role::Cajero]).await;
    staff(&app, "tesorera", &[Role::Tesorero]).await;
    staff(&app, "jefa", &[Role::Admin]).await;

    // A cajero is not asked.
    let (_, r) = password_step(&app, "caja", PASSWORD).await;
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/personal/bitacora"));

    // A tesorero: straight to the enrolment, and every other staff page sends them back there.
    let (_, r) = password_step(&app, "tesorera", PASSWORD).await;
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/personal/cuenta/2fa"));
    let cookie = cookie_of(&r, "recauda_personal").unwrap();
    for path in ["/personal", "/personal/bitacora", "/personal/caja/verificar", "/personal/admin/personal"] {
        let r = get_as(&app, path, Some(&cookie)).await;
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/personal/cuenta/2fa"));
    }
    let r = app
        .client
        .post(format!("{}/api/v1/receipts/A-2026-000001/redeem", app.base))
        .header("cookie", &cookie)
        .json(&serde_json::json!({ "s": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], "totp_required");
    let r = get_as(&app, "/personal/cuenta/2fa", Some(&cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-testid="totp-required""#) && html.contains(r#"data-testid="logout""#), "{html}");

    // Enrolled: everything opens; it cannot be turned off.
    let (secret, enrolled) = enrol(&app, &cookie).await;
    assert_eq!(get_as(&app, "/personal", Some(&cookie)).await.status().as_u16(), 200);
    assert_eq!(get_as(&app, "/personal/bitacora", Some(&cookie)).await.status().as_u16(), 200);
    let html = get_as(&app, "/personal/cuenta/2fa", Some(&cookie)).await.text().await.unwrap();
    assert!(!html.contains("totp-disable-form") && html.contains("no se puede desactivar"), "{html}");
    let token = page_token(&app, &cookie).await;
    let body = format!("csrf={token}&codigo={}", totp::code_at_step(&secret, enrolled + 1));
    let r = post_as(&app, "/personal/cuenta/2fa/desactivar", &cookie, &body).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("no se puede desactivar"));

    // The admin enrols too, then resets the tesorera's: she is sent to enrol again.
    let (_, r) = password_step(&app, "jefa", PASSWORD).await;
    assert_eq!(r.headers()["location"], "/personal/cuenta/2fa");
    let admin = cookie_of(&r, "recauda_personal").unwrap();
    enrol(&app, &admin).await;
    let token = page_token(&app, &admin).await;
    let r = post_as(&app, "/personal/admin/personal/tesorera/2fa", &admin, &format!("csrf={token}")).await;
    assert_eq!(r.status().as_u16(), 200);
    let (_, r) = password_step(&app, "tesorera", PASSWORD).await;
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/personal/cuenta/2fa"));
    // Logging out stays open before enrolling.
    let cookie = cookie_of(&r, "recauda_personal").unwrap();
    let token = app.state.csrf_key.token_for(cookie.split_once('=').unwrap().1);
    let r = post_as(&app, "/personal/salir", &cookie, &format!("csrf={token}")).await;
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/personal/entrar"));
}
