//! Property-based fuzzing of what the server reads from a request: form
//! bodies and query strings with repeated, missing and garbled fields.
//!
//! * `First<T>`: when a field is repeated the first value counts (a
//!   repeated `cargo` fills the list, in order);
//! * `CsrfForm`: the first `csrf` field is the one checked (a valid token
//!   after a wrong one does not help); a refusal is 403, a body that is not
//!   the form expected 400 — never a 500;
//! * the same through the real routes (`POST /orden`, the demo buttons,
//!   `GET /api/v1/debts`, `/idioma`, `/v/{folio}`, `/recibos`);
//! * the padrón import end to end: a file with any problem imports nothing.
//!
//! `cargo test -p server --test it fuzz::` (the CI stage `fuzz` runs it
//! with `PROPTEST_CASES` cases; an HTTP round trip costs more than a parse,
//! so those properties run a tenth of them).

use std::fmt::Debug;

use app::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use server::api::DebtsQuery;
use server::http::extract::{CsrfForm, Query};
use server::pay::{DemoForm, EmptyForm, OrderForm};
use server::receipts::{PdfQuery, SignatureQuery};
use server::security::LangSwitch;

use crate::common::{spawn_app, TestApp, TOKEN};

/// Runs `check` on `PROPTEST_CASES` values of `strategy` (256 without it),
/// or a `divisor`-th of them (at least 16). Prints the count (captured;
/// `--show-output` shows it), which the CI stage `fuzz` sums up.
fn run<S: Strategy>(strategy: S, divisor: u32, check: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: Debug,
{
    let default = ProptestConfig::default();
    let config = ProptestConfig { cases: (default.cases / divisor).max(16), source_file: Some(file!()), ..default };
    let cases = config.cases;
    if let Err(e) = TestRunner::new(config).run(&strategy, check) {
        panic!("{e}");
    }
    println!("fuzz property: {cases} cases");
}

/// A runtime that outlives the cases, and a server on it.
fn server() -> (tokio::runtime::Runtime, TestApp) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let app = rt.block_on(spawn_app());
    (rt, app)
}

/// The CSRF field the test session's forms carry.
fn valid_csrf(state: &AppState) -> String {
    state.csrf_key.token_for(TOKEN)
}

/// The names forms and queries use, their near misses, and anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "cuenta", "rfc", "cargo", "csrf", "accion", "account", "s", "papel", "lang", "volver", "folio",
            "importe", "cuenta[]", "Cuenta", " cuenta", "csrf ", "", "q", "tarifa", "cantidad",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
}

/// Values: accounts, RFCs and charges of the test padrón, the session's
/// CSRF token and wrong ones, paths, and anything.
fn value(csrf: String) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "P-000001", "p-000002", "LC-000001", "A-000003", "X-999999", "GODE561231GR8", "gode561231gr8",
            "XAXX010101000", "1", "2", "3", "8", "-1", "0", "99999999999999999999", "1.5", "", " ", "en", "es",
            "/consulta", "/", "//evil.example", "/recibos?cuenta=P-1", "pagar", "aprobar", "rechazar", "carta",
            "ticket", "A-2026-000001", "$1,234.50", "1234,50", "ANU-I-E", "ESP-BOLETAJE", "ANU-IV", "taxi",
        ])
        .prop_map(str::to_string),
        2 => Just(csrf),
        1 => "[0-9a-f]{32}",
        2 => "\\PC{0,24}",
    ]
}

/// One `&`-separated piece of a form body or query string.
fn segment(csrf: String) -> impl Strategy<Value = Vec<u8>> {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    prop_oneof![
        // key=value, encoded as a browser does.
        8 => (key(), value(csrf.clone())).prop_map(move |(k, v)| format!("{}={}", encode(&k), encode(&v)).into_bytes()),
        // key=value as typed, `&`, `=`, `+` and `%` included.
        2 => (key(), value(csrf)).prop_map(|(k, v)| format!("{k}={v}").into_bytes()),
        // A name alone, invalid escapes, arbitrary bytes.
        1 => key().prop_map(String::into_bytes),
        1 => prop::sample::select(vec!["%", "%G1", "%FF", "%C3", "cuenta=%FF%FE", "=", "==", "+", ";"])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..16),
    ]
}

fn body(csrf: String) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(segment(csrf), 0..10).prop_map(|s| s.join(&b'&'))
}

/// A query string a request line can carry (visible ASCII, escapes left as
/// they are, valid or not).
fn query(csrf: String) -> impl Strategy<Value = String> {
    prop::collection::vec(segment(csrf), 0..8).prop_map(|segments| {
        let text = String::from_utf8_lossy(&segments.join(&b'&')).into_owned();
        form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            // Keep the separators and escapes of the original.
            .replace("%26", "&")
            .replace("%3D", "=")
            .replace("%25", "%")
    })
}

/// The fields of a form body or query string, decoded as every reader here decodes them.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn of(bytes: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(bytes).into_owned().collect())
    }

    fn first(&self, key: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }
}

fn form_request(state: &AppState, body: Vec<u8>) -> Request {
    Request::builder()
        .method("POST")
        .uri("/orden")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("{}={TOKEN}", state.cookies.csrf_name()))
        .body(Body::from(body))
        .unwrap()
}

/// A CSRF-checked form's answer: accepted exactly when the FIRST `csrf`
/// field is the session's token; otherwise 403 (400 at most for a body that
/// is not the form), never a 5xx.
fn check_csrf<T>(
    state: &AppState,
    fields: &Fields,
    result: &Result<CsrfForm<T>, app::error::AppError>,
) -> Result<bool, TestCaseError> {
    let csrf_ok = fields.first("csrf").is_some_and(|sent| state.csrf_key.accepts(TOKEN, &sent));
    match result {
        Ok(_) => prop_assert!(csrf_ok, "accepted without the session's token first"),
        Err(e) => {
            prop_assert!(e.status < 500, "{e:?}");
            if csrf_ok {
                prop_assert_eq!(e.status, 400, "{:?}", e);
            } else {
                prop_assert_eq!((e.status, e.code.as_str()), (403, "csrf"));
            }
        }
    }
    Ok(csrf_ok)
}

fn query_parts(query: &str) -> axum::http::request::Parts {
    Request::builder().uri(format!("/x?{query}")).body(()).unwrap().into_parts().0
}

#[test]
fn order_form_first_value_wins_and_csrf_is_the_first_field() {
    let (rt, app) = server();
    let state = app.state.clone();
    run(body(valid_csrf(&state)), 1, |body| {
        let fields = Fields::of(&body);
        let result = rt.block_on(CsrfForm::<OrderForm>::from_request(form_request(&state, body), &state));
        check_csrf(&state, &fields, &result)?;
        if let Ok(CsrfForm(form)) = result {
            prop_assert_eq!(form.cuenta.0, fields.first("cuenta"));
            prop_assert_eq!(form.rfc.0, fields.first("rfc"));
            prop_assert_eq!(form.cargo, fields.all("cargo"));
        }
        Ok(())
    });
}

#[test]
fn demo_and_empty_forms_first_value_wins() {
    let (rt, app) = server();
    let state = app.state.clone();
    run(body(valid_csrf(&state)), 1, |body| {
        let fields = Fields::of(&body);
        let demo = rt.block_on(CsrfForm::<DemoForm>::from_request(form_request(&state, body.clone()), &state));
        check_csrf(&state, &fields, &demo)?;
        if let Ok(CsrfForm(form)) = demo {
            prop_assert_eq!(form.accion.0, fields.first("accion"));
        }
        let empty = rt.block_on(CsrfForm::<EmptyForm>::from_request(form_request(&state, body), &state));
        check_csrf(&state, &fields, &empty)?;
        Ok(())
    });
}

#[test]
fn query_first_value_wins() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    run(query("0123456789abcdef0123456789abcdef".into()), 1, |q| {
        let fields = Fields::of(q.as_bytes());
        let refused = |e: &app::error::AppError| -> Result<(), TestCaseError> {
            prop_assert_eq!((e.status, e.code.as_str()), (400, "invalid_query"));
            Ok(())
        };
        match rt.block_on(Query::<DebtsQuery>::from_request_parts(&mut query_parts(&q), &())) {
            Ok(Query(d)) => {
                prop_assert_eq!(d.account.0, fields.first("account"));
                prop_assert_eq!(d.rfc.0, fields.first("rfc"));
            }
            Err(e) => refused(&e)?,
        }
        match rt.block_on(Query::<SignatureQuery>::from_request_parts(&mut query_parts(&q), &())) {
            Ok(Query(s)) => prop_assert_eq!(s.s.0, fields.first("s")),
            Err(e) => refused(&e)?,
        }
        match rt.block_on(Query::<PdfQuery>::from_request_parts(&mut query_parts(&q), &())) {
            Ok(Query(p)) => {
                prop_assert_eq!(p.s.0, fields.first("s"));
                prop_assert_eq!(p.papel.0, fields.first("papel"));
            }
            Err(e) => refused(&e)?,
        }
        match rt.block_on(Query::<LangSwitch>::from_request_parts(&mut query_parts(&q), &())) {
            Ok(Query(l)) => {
                prop_assert_eq!(l.lang.0, fields.first("lang"));
                prop_assert_eq!(l.volver.0, fields.first("volver"));
            }
            Err(e) => refused(&e)?,
        }
        Ok(())
    });
}

#[test]
fn form_posts_never_answer_5xx() {
    let (rt, app) = server();
    let csrf = valid_csrf(&app.state);
    let paths = prop::sample::select(vec![
        "/orden",
        "/orden/0123456789abcdef0123456789abcdef/pagar",
        "/orden/x/cotizar",
        "/prueba/pago/0123456789abcdef0123456789abcdef/accion",
    ]);
    run((paths, body(csrf)), 10, |(path, body)| {
        let fields = Fields::of(&body);
        let csrf_ok = fields.first("csrf").is_some_and(|sent| app.state.csrf_key.accepts(TOKEN, &sent));
        let status = rt.block_on(async {
            app.client
                .post(format!("{}{path}", app.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("{}={TOKEN}", app.state.cookies.csrf_name()))
                .body(body)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        });
        prop_assert!(status < 500, "{path}: {status}");
        prop_assert_eq!(status == 403, !csrf_ok, "{}: {}", path, status);
        Ok(())
    });
}

#[test]
fn gets_with_repeated_fields_never_answer_5xx_and_the_first_value_wins() {
    let (rt, app) = server();
    let paths = prop::sample::select(vec![
        "/api/v1/debts",
        "/idioma",
        "/v/A-2026-000001",
        "/recibos",
        "/consulta",
        "/tramites",
        "/tramites/anuncios",
        "/tramites/espectaculos",
    ]);
    run((paths, query(valid_csrf(&app.state))), 10, |(path, q)| {
        let get = |q: String| {
            rt.block_on(async {
                let response = app.client.get(format!("{}{path}?{q}", app.base)).send().await.expect("request");
                let status = response.status().as_u16();
                let location = response.headers().get("location").map(|l| l.to_str().unwrap_or("").to_string());
                (status, location, response.bytes().await.unwrap_or_default())
            })
        };
        let (status, location, answer) = get(q.clone());
        prop_assert!(status < 500, "{path}?{q}: {status}");
        let fields = Fields::of(q.as_bytes());
        match path {
            // The API answers the repeated request as the one with each
            // field's first value alone.
            "/api/v1/debts" => {
                let firsts: Vec<String> = ["account", "rfc"]
                    .iter()
                    .filter_map(|k| fields.first(k).map(|v| format!("{k}={}", crate::common::encode(&v))))
                    .collect();
                let (status_firsts, _, answer_firsts) = get(firsts.join("&"));
                prop_assert_eq!(status, status_firsts, "{}?{}", path, q);
                prop_assert_eq!(answer, answer_firsts);
            }
            // Back to a page of this site, the first `volver` when it is one.
            "/idioma" => {
                prop_assert_eq!(status, 303);
                let location = location.unwrap_or_default();
                prop_assert!(location.starts_with('/') && !location.starts_with("//"), "{}", location);
                if let Some(back) = fields.first("volver").filter(|v| ["/consulta", "/"].contains(&v.as_str())) {
                    prop_assert_eq!(location, back);
                }
            }
            _ => {}
        }
        Ok(())
    });
}

/// A valid padrón of `n` lines for accounts not in the test padrón.
fn valid_padron(n: usize) -> String {
    let mut text = String::from("account,kind,rfc,name,colonia,concept,period,due_date,amount\n");
    for i in 0..n {
        text.push_str(&format!("F-{i:06},predial,,Contribuyente {i},Centro,predial,2026-B1,2026-02-28,{}.50\n", i + 1));
    }
    text
}

#[test]
fn a_padron_with_any_bad_line_imports_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store = rt.block_on(app::store::Store::connect("sqlite::memory:")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad_lines: [&[u8]; 4] = [
        b"F-X,predial,,Pe\xf1a,,predial,2026-B1,2026-02-28,10\r",
        b"F-X,predial,,Ana,,predial,2026-B1,2026-02-30,10\r\n",
        b"F-X,predial,,Ana,,predial,2026-B1,2026-02-28,0\n",
        b"F-X,predial,,\"Ana\n",
    ];
    // `run_import` prints its progress: few cases (the parser's own fuzzing
    // is in `server::import`).
    run((0..bad_lines.len(), 1usize..300, any::<prop::sample::Index>()), 100, |(which, n, at)| {
        let text = valid_padron(n);
        let mut lines: Vec<&[u8]> = text.as_bytes().split_inclusive(|b| *b == b'\n').collect();
        let line = 1 + at.index(lines.len());
        lines.insert(line, bad_lines[which]);
        let path = dir.path().join("padron.csv");
        std::fs::write(&path, lines.concat()).unwrap();
        let result = rt.block_on(server::import::run_import(&store, &path));
        let Err(server::import::ImportError::Invalid(errs)) = result else {
            return Err(TestCaseError::fail(format!("imported: {result:?}")));
        };
        prop_assert!(errs.errors.iter().any(|e| e.line == line + 1), "{}", errs);
        let counts = rt.block_on(store.counts()).unwrap();
        prop_assert_eq!((counts.taxpayers, counts.accounts, counts.charges), (0, 0, 0));
        Ok(())
    });
    // The same file without its bad line imports.
    let path = dir.path().join("good.csv");
    std::fs::write(&path, valid_padron(5)).unwrap();
    let summary = rt.block_on(server::import::run_import(&store, &path)).unwrap();
    assert_eq!(summary.charges_created, 5);
}
