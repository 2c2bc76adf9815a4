//! Garbage collection for businesses: services registered and ended with
//! `recauda basura alta|baja` and the treasury's page, the month's charges
//! of `recauda cargos generar basura --mes` (amounts checked by hand, a
//! second run creating nothing, services outside the month left alone, the
//! charges in the public lookup), several runs at once on PostgreSQL, and
//! the amounts staff set within a range tariff (fines), refused outside it
//! and to every role but tesorero; a private collector's monthly factor
//! (BAS-I) set at the alta within its range and charged every month; party
//! halls' services (BAS-G) charged N at a time at their fixed factor.

use std::process::Command;

use app::domain::garbage::Month;
use app::domain::staff::Role;
use app::store::Store;
use serde_json::Value;

use crate::common::{encode, spawn_app, spawn_app_on_database, TestApp};
use crate::staff::{get_as, page_token, post_as, session, staff};

const PAGE: &str = "/personal/tesoreria/basura";

/// Runs `recauda ARGS` on `database_url` with Loreto's municipality file:
/// whether it succeeded, and what it printed (stdout then stderr).
fn recauda(database_url: &str, args: &[&str]) -> (bool, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO_BIN_EXE_recauda"))
        .args(args)
        .env("RECAUDA_DATABASE_URL", database_url)
        .env("RECAUDA_MUNICIPALITY", root.join("config/municipalities/loreto.toml"))
        .env_remove("RECAUDA_CONFIG")
        .env_remove("RECAUDA_TODAY")
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn sqlite_url(app: &TestApp) -> String {
    format!("sqlite://{}", app.db_path.display())
}

/// The open charges of `account` of `concept`, as the public lookup shows
/// them: (period, principal, due date).
async fn lookup(app: &TestApp, account: &str, concept: &str) -> Vec<(String, String, String)> {
    let (status, doc) = app.get_json(&format!("/api/v1/debts?account={account}")).await;
    assert_eq!(status, 200, "{doc}");
    let items = doc["accounts"][0]["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter(|i| i["concept"] == concept)
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or_default().to_string();
            (s("period"), s("principal"), s("due_date"))
        })
        .collect()
}

async fn charge_count(store: &Store) -> u64 {
    store.counts().await.unwrap().charges
}

/// Runs `recauda cargos generar basura --mes MONTH` once more: it finds
/// the `services` active services' charges already there and writes none.
async fn generating_again_creates_nothing(app: &TestApp, url: &str, month: &str, services: usize) {
    let charges = charge_count(&app.store).await;
    let (ok, out) = recauda(url, &["cargos", "generar", "basura", "--mes", month]);
    let expected = format!(
        "{services} servicios activos, 0 cargos nuevos, {services} ya existían; total de los cargos nuevos $0.00"
    );
    assert!(ok && out.contains(&expected), "{out}");
    assert_eq!(charge_count(&app.store).await, charges);
}

async fn audit_count(store: &Store, action: &str) -> usize {
    store.audit_entries(action, "", 500).await.unwrap().len()
}

#[tokio::test]
async fn the_months_charges_are_generated_once_for_the_services_active_in_it() {
    let app = spawn_app().await;
    let url = sqlite_url(&app);

    // Services: LC-000001 from mid-January, P-000001 from March's last day,
    // P-000002 from April, A-000003 from January until February's end.
    for args in [
        ["basura", "alta", "LC-000001", "BAS-C-2S", "--desde", "2026-01-15"],
        ["basura", "alta", "p-000001", "bas-c-2s", "--desde", "2026-03-31"],
        ["basura", "alta", "P-000002", "BAS-A-DIARIO", "--desde", "2026-04-01"],
        ["basura", "alta", "A-000003", "BAS-E-DIARIO", "--desde", "2026-01-01"],
    ] {
        let (ok, out) = recauda(&url, &args);
        assert!(ok && out.contains("Servicio de recolección registrado"), "{args:?}: {out}");
    }
    let (ok, out) = recauda(&url, &["basura", "baja", "A-000003", "--hasta", "2026-02-28"]);
    assert!(ok && out.contains("último día 28/02/2026"), "{out}");

    // Refused, with a Spanish message and a non-zero exit, nothing written.
    let charges_before = charge_count(&app.store).await;
    let services_before = audit_count(&app.store, "garbage.service_started").await;
    for (args, said) in [
        (vec!["basura", "alta", "X-999999", "BAS-C-2S", "--desde", "2026-05-01"], "No existe la cuenta «X-999999»"),
        (vec!["basura", "alta", "P-000002", "BAS-K", "--desde", "2026-05-01"], "no es una tarifa mensual"),
        (vec!["basura", "alta", "P-000002", "BAS-I", "--desde", "2026-05-01"], "escriba el factor mensual"),
        (vec!["basura", "alta", "P-000002", "NADA", "--desde", "2026-05-01"], "no es una tarifa mensual"),
        (vec!["basura", "alta", "LC-000001", "BAS-C-DIARIO", "--desde", "2026-05-01"], "ya recibe el servicio"),
        (vec!["basura", "alta", "A-000003", "BAS-A-2S", "--desde", "2026-02-01"], "hasta el 28/02/2026"),
        (vec!["basura", "alta", "P-000002", "BAS-A-2S", "--desde", "2026-02-30"], "no es una fecha"),
        (vec!["basura", "alta", "P-000002", "BAS-A-2S"], "falta --desde"),
        (vec!["basura", "baja", "P-000002", "--hasta", "2026-03-31"], "anterior al inicio del servicio (01/04/2026)"),
        (vec!["basura", "baja", "A-000003", "--hasta", "2026-03-31"], "no tiene un servicio de recolección vigente"),
        (vec!["cargos", "generar", "basura", "--mes", "2026-13"], "«2026-13» no es un mes"),
        (vec!["cargos", "generar", "basura", "--mes", "marzo"], "escríbalo como AAAA-MM"),
        (vec!["cargos", "generar", "basura"], "falta --mes"),
    ] {
        let (ok, out) = recauda(&url, &args);
        assert!(!ok && out.contains(said), "{args:?}: {out}");
    }
    assert_eq!(charge_count(&app.store).await, charges_before);
    assert_eq!(audit_count(&app.store, "garbage.service_started").await, services_before);
    assert_eq!(audit_count(&app.store, "garbage.charges_generated").await, 0);

    // March 2026 (UMA 117.31): LC-000001 and P-000001 under BAS-C-2S,
    // 16 × 117.31 = 1,876.96 each, due March 31; P-000002 starts in April,
    // A-000003 ended in February: nothing for them.
    let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-03"]);
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "Basura 2026-03: 2 servicios activos, 2 cargos nuevos, 0 ya existían; total de los cargos nuevos $3,753.92"
        ),
        "{out}"
    );
    assert!(out.contains("vencimiento 31/03/2026") && out.contains("UMA del 01/03/2026: $117.31"), "{out}");
    for account in ["LC-000001", "P-000001"] {
        let march: Vec<_> = lookup(&app, account, "basura").await.into_iter().filter(|c| c.0 == "2026-03").collect();
        assert_eq!(march, [("2026-03".into(), "1876.96".into(), "2026-03-31".into())], "{account}");
    }
    assert!(lookup(&app, "P-000002", "basura").await.is_empty());
    assert!(lookup(&app, "A-000003", "basura").await.is_empty());

    // Again: nothing new.
    generating_again_creates_nothing(&app, &url, "2026-03", 2).await;

    // January 2026, before February's UMA (113.14): LC-000001 (from the
    // 15th) 16 × 113.14 = 1,810.24; A-000003 70 × 113.14 = 7,919.80.
    let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-01"]);
    assert!(
        ok && out.contains("2 servicios activos, 2 cargos nuevos, 0 ya existían; total de los cargos nuevos $9,730.04"),
        "{out}"
    );
    assert!(lookup(&app, "LC-000001", "basura").await.contains(&(
        "2026-01".into(),
        "1810.24".into(),
        "2026-01-31".into()
    )));
    assert_eq!(lookup(&app, "A-000003", "basura").await, [("2026-01".into(), "7919.80".into(), "2026-01-31".into())]);

    // October 2026: LC-000001's charge came with the padrón ($385.50) and
    // stays as it was; P-000001 1,876.96 and P-000002 8 × 117.31 = 938.48.
    let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-10"]);
    assert!(
        ok && out.contains("3 servicios activos, 2 cargos nuevos, 1 ya existían; total de los cargos nuevos $2,815.44"),
        "{out}"
    );
    assert!(lookup(&app, "LC-000001", "basura").await.contains(&(
        "2026-10".into(),
        "385.50".into(),
        "2026-10-17".into()
    )));
    assert_eq!(lookup(&app, "P-000002", "basura").await, [("2026-10".into(), "938.48".into(), "2026-10-31".into())]);

    // Every run is in the audit trail, with who ran it and what it did.
    let runs = app.store.audit_entries("garbage.charges_generated", "", 10).await.unwrap();
    assert_eq!(runs.len(), 4);
    assert!(runs.iter().all(|e| e.actor.starts_with("cli:")), "{runs:?}");
    let last: Value = serde_json::from_str(&runs[0].details).unwrap();
    assert_eq!(
        (last["month"].as_str(), last["created"].as_u64(), last["present"].as_u64()),
        (Some("2026-10"), Some(2), Some(1))
    );
    assert_eq!(last["total_centavos"], 281_544);
    assert!(app.store.verify_audit().await.unwrap().first_bad.is_none());
}

/// A logged-in person: their session cookie and their forms' token.
struct Person {
    cookie: String,
    csrf: String,
}

async fn person(app: &TestApp, name: &str, roles: &[Role]) -> Person {
    staff(app, name, roles).await;
    let cookie = session(app, name).await;
    let csrf = page_token(app, &cookie).await;
    Person { cookie, csrf }
}

impl Person {
    async fn get(&self, app: &TestApp, path: &str) -> (u16, String) {
        let r = get_as(app, path, Some(&self.cookie)).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// POSTs a form (the token added): the status, and the `Location` of a
    /// 303 or the page.
    async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut body = format!("csrf={}", encode(&self.csrf));
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", encode(v)));
        }
        let r = post_as(app, path, &self.cookie, &body).await;
        let status = r.status().as_u16();
        if status == 303 {
            (status, r.headers()["location"].to_str().unwrap().to_string())
        } else {
            (status, r.text().await.unwrap())
        }
    }
}

#[tokio::test]
async fn the_treasury_registers_services_and_sets_fines_within_the_tariffs_range() {
    let app = spawn_app().await;
    let tesorera = person(&app, "tesorera", &[Role::Tesorero]).await;
    let cajera = person(&app, "cajera", &[Role::Cajero]).await;

    let (status, html) = tesorera.get(&app, "/personal").await;
    assert!(status == 200 && html.contains("data-testid=\"go-garbage\""), "{html}");
    let (status, html) = tesorera.get(&app, PAGE).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-testid=\"garbage-none\""), "{html}");
    assert!(html.contains("BAS-C-2S — Restaurantes") && html.contains("BAS-K — Personas sorprendidas"), "{html}");
    let alta_form = html.split("data-testid=\"garbage-register\"").nth(1).unwrap().split("</form>").next().unwrap();
    assert!(alta_form.contains("value=\"BAS-I\"") && alta_form.contains("de 15 a 100 UMA al mes"), "{alta_form}");

    // A service, registered from the page.
    let alta = [("cuenta", "lc-000001"), ("tarifa", "BAS-C-2S"), ("desde", "2026-11-01")];
    let (status, to) = tesorera.post(&app, "/personal/tesoreria/basura/alta", &alta).await;
    assert!(status == 303 && to.starts_with("/personal/tesoreria/basura?aviso=alta&servicio="), "{status} {to}");
    let (_, html) = tesorera.get(&app, &to).await;
    assert!(html.contains("Servicio registrado"), "{html}");
    let row = html.split("data-testid=\"garbage-service\"").nth(1).unwrap();
    for shown in ["LC-000001", "Emilio Gómez Díaz", "BAS-C-2S", "Restaurantes, almacenes comerciales", "01/11/2026"] {
        assert!(row.contains(shown), "{shown}: {row}");
    }
    let (status, html) = tesorera.post(&app, "/personal/tesoreria/basura/alta", &alta).await;
    assert!(status == 409 && html.contains("ya recibe el servicio"), "{status} {html}");
    let (status, html) = tesorera
        .post(
            &app,
            "/personal/tesoreria/basura/alta",
            &[("cuenta", "P-000002"), ("tarifa", "BAS-L"), ("desde", "2026-11-01")],
        )
        .await;
    assert!(status == 422 && html.contains("no es una tarifa mensual"), "{status} {html}");

    // A fine within BAS-K's range (50–100 UMA): 60 × 117.31 = 7,038.60,
    // due in 15 days; a second one the same day takes the next period.
    let multa = "/personal/tesoreria/basura/multa";
    let reason = "Sorprendido tirando escombro en el arroyo";
    let fine = [("cuenta", "P-000002"), ("tarifa", "BAS-K"), ("factor", "60"), ("motivo", reason)];
    let (status, to) = tesorera.post(&app, multa, &fine).await;
    assert_eq!((status, to.as_str()), (303, "/personal/tesoreria/basura?aviso=multa&cargo=1"));
    let (_, html) = tesorera.get(&app, &to).await;
    assert!(html.contains("60 UMA × $117.31 (UMA de hoy) = $7,038.60"), "{html}");
    assert_eq!(
        lookup(&app, "P-000002", "multa_basura").await,
        [("MULTA-20261121-1".into(), "7038.60".into(), "2026-12-06".into())]
    );
    let (status, _) = tesorera
        .post(
            &app,
            multa,
            &[
                ("cuenta", "P-000002"),
                ("tarifa", "BAS-L"),
                ("factor", "1.5"),
                ("motivo", "Sacó la basura después del recorrido"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    // 1.5 × 117.31 = 175.965 → 175.97
    assert!(lookup(&app, "P-000002", "multa_basura").await.contains(&(
        "MULTA-20261121-2".into(),
        "175.97".into(),
        "2026-12-06".into()
    )));
    // A special service (inciso j, 15–50 UMA) is a garbage charge, not a fine: 20 × 117.31 = 2,346.20.
    let (status, _) = tesorera
        .post(
            &app,
            multa,
            &[
                ("cuenta", "A-000003"),
                ("tarifa", "BAS-J"),
                ("factor", "20"),
                ("motivo", "Recolección especial de una embarcación"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        lookup(&app, "A-000003", "basura").await,
        [("SERV-20261121-1".into(), "2346.20".into(), "2026-12-06".into())]
    );
    let (_, html) = tesorera.get(&app, PAGE).await;
    assert_eq!(html.matches("data-testid=\"garbage-staff-charge\"").count(), 3, "{html}");
    assert!(html.contains("MULTA-20261121-1") && html.contains("$7,038.60") && html.contains(reason), "{html}");

    let set = app.store.audit_entries("garbage.charge_set", "staff:tesorera", 10).await.unwrap();
    assert_eq!(set.len(), 3);
    let first: Value = serde_json::from_str(&set[2].details).unwrap();
    assert_eq!(
        (first["tariff"].as_str(), first["factor"].as_str(), first["uma"].as_str()),
        (Some("BAS-K"), Some("60"), Some("117.31"))
    );
    assert_eq!((first["amount_centavos"].as_i64(), first["reason"].as_str()), (Some(703_860), Some(reason)));

    // Outside the range, or without a reason, or on no account: refused
    // with the Spanish message, and nothing written.
    let charges = charge_count(&app.store).await;
    for (fields, status, said) in [
        (
            [("cuenta", "P-000002"), ("tarifa", "BAS-K"), ("factor", "100.01"), ("motivo", reason)],
            422,
            "El importe debe estar entre 50 y 100 UMA.",
        ),
        (
            [("cuenta", "P-000002"), ("tarifa", "BAS-K"), ("factor", "49"), ("motivo", reason)],
            422,
            "El importe debe estar entre 50 y 100 UMA.",
        ),
        (
            [("cuenta", "P-000002"), ("tarifa", "BAS-L"), ("factor", "0"), ("motivo", reason)],
            422,
            "El importe debe estar entre 1 y 50 UMA.",
        ),
        (
            [("cuenta", "P-000002"), ("tarifa", "BAS-K"), ("factor", "sesenta"), ("motivo", reason)],
            400,
            "no es un número de UMA",
        ),
        ([("cuenta", "P-000002"), ("tarifa", "BAS-K"), ("factor", "60"), ("motivo", "  ")], 422, "Escriba el motivo"),
        (
            [("cuenta", "P-000002"), ("tarifa", "BAS-C-2S"), ("factor", "60"), ("motivo", reason)],
            422,
            "no es una tarifa de basura con importe",
        ),
        (
            [("cuenta", "X-999999"), ("tarifa", "BAS-K"), ("factor", "60"), ("motivo", reason)],
            404,
            "No existe la cuenta «X-999999»",
        ),
    ] {
        let (got, html) = tesorera.post(&app, multa, &fields).await;
        assert_eq!(got, status, "{fields:?}: {html}");
        assert!(html.contains(said), "{fields:?}: {html}");
    }
    // The page keeps what was typed.
    let (_, html) = tesorera
        .post(&app, multa, &[("cuenta", "P-000002"), ("tarifa", "BAS-K"), ("factor", "120"), ("motivo", reason)])
        .await;
    assert!(html.contains("value=\"120\"") && html.contains("<option value=\"BAS-K\" selected"), "{html}");
    assert_eq!(charge_count(&app.store).await, charges);
    assert_eq!(app.store.audit_entries("garbage.charge_set", "", 10).await.unwrap().len(), 3);

    // A cajero may do none of it; a form without its token is refused.
    let (status, _) = cajera.get(&app, PAGE).await;
    assert_eq!(status, 403);
    let (status, _) = cajera.post(&app, multa, &fine).await;
    assert_eq!(status, 403);
    let (status, _) = cajera.post(&app, "/personal/tesoreria/basura/alta", &alta).await;
    assert_eq!(status, 403);
    let r = post_as(&app, multa, &tesorera.cookie, "cuenta=P-000002&tarifa=BAS-K&factor=60&motivo=xxxxxxxxxxxx&csrf=0")
        .await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(charge_count(&app.store).await, charges);
}

#[tokio::test]
async fn a_private_collector_is_charged_every_month_the_factor_set_at_its_registration() {
    let app = spawn_app().await;
    let url = sqlite_url(&app);
    let tesorera = person(&app, "tesorera", &[Role::Tesorero]).await;

    // BAS-I (inciso i, unit month, 15–100 UMA): the factor is set at the
    // alta, from the command…
    let reason = "Recolectora privada: unas 12 toneladas al mes en el relleno";
    let (ok, out) = recauda(
        &url,
        &["basura", "alta", "P-000001", "bas-i", "--desde", "2026-01-20", "--factor", "40", "--motivo", reason],
    );
    assert!(
        ok && out.contains("tarifa BAS-I — Empresas particulares") && out.contains("factor 40 UMA al mes"),
        "{out}"
    );

    // …refused outside the range, without a factor, or with one under a
    // fixed tariff: a Spanish message, a non-zero exit, nothing written.
    let charges = charge_count(&app.store).await;
    for (args, said) in [
        (
            vec!["basura", "alta", "P-000002", "BAS-I", "--desde", "2026-03-01", "--factor", "14.99"],
            "El factor mensual de la tarifa BAS-I debe estar entre 15 y 100 UMA.",
        ),
        (
            vec!["basura", "alta", "P-000002", "BAS-I", "--desde", "2026-03-01", "--factor", "100.01"],
            "debe estar entre 15 y 100 UMA",
        ),
        (vec!["basura", "alta", "P-000002", "BAS-I", "--desde", "2026-03-01"], "escriba el factor mensual"),
        (
            vec!["basura", "alta", "P-000002", "BAS-I", "--desde", "2026-03-01", "--factor", "cuarenta"],
            "no es un número",
        ),
        (
            vec!["basura", "alta", "P-000002", "BAS-C-2S", "--desde", "2026-03-01", "--factor", "16"],
            "factor fijo de 16",
        ),
        (
            vec!["basura", "alta", "P-000002", "BAS-I", "--desde", "2026-03-01", "--factor"],
            "falta el valor de --factor",
        ),
    ] {
        let (ok, out) = recauda(&url, &args);
        assert!(!ok && out.contains(said), "{args:?}: {out}");
    }
    assert_eq!(audit_count(&app.store, "garbage.service_started").await, 1);

    // …and from the page: out of the range, or missing, refused with the
    // error summary linking to the factor, the form kept, nothing written.
    let alta = "/personal/tesoreria/basura/alta";
    for (factor, tariff, said) in [
        ("101", "BAS-I", "El factor mensual de la tarifa BAS-I debe estar entre 15 y 100 UMA."),
        ("", "BAS-I", "La tarifa BAS-I tiene un rango: escriba el factor mensual del servicio, entre 15 y 100 UMA."),
        ("8", "BAS-A-2S", "La tarifa BAS-A-2S tiene un factor fijo de 4 UMA al mes: deje vacío el factor."),
    ] {
        let fields = [("cuenta", "A-000003"), ("tarifa", tariff), ("factor", factor), ("desde", "2026-03-01")];
        let (status, html) = tesorera.post(&app, alta, &fields).await;
        assert_eq!(status, 422, "{fields:?}: {html}");
        assert!(html.contains(said) && html.contains("href=\"#alta-factor\""), "{fields:?}: {html}");
        assert!(html.contains(&format!("<option value=\"{tariff}\" selected")), "{html}");
    }
    assert_eq!(audit_count(&app.store, "garbage.service_started").await, 1);
    assert_eq!(charge_count(&app.store).await, charges);

    // Within the range: 303, and the page shows the service back with what
    // it owes a month at today's UMA: 15.5 × 1 × 117.31 = 1,818.305 → 1,818.31.
    let fields =
        [("cuenta", "A-000003"), ("tarifa", "BAS-I"), ("factor", "15,5"), ("motivo", ""), ("desde", "2026-03-01")];
    let (status, to) = tesorera.post(&app, alta, &fields).await;
    assert!(status == 303 && to.starts_with("/personal/tesoreria/basura?aviso=alta&servicio="), "{status} {to}");
    let (_, html) = tesorera.get(&app, &to).await;
    assert!(html.contains("15.5 UMA al mes (fijado al registrar)"), "{html}");
    assert!(html.contains("15.5 UMA × 1 mes × $117.31 (UMA de hoy) = $1,818.31 al mes"), "{html}");
    let row = html.split("data-account=\"A-000003\"").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("BAS-I") && row.contains("15.5 UMA"), "{row}");

    let started = app.store.audit_entries("garbage.service_started", "", 10).await.unwrap();
    let (page, cli): (Value, Value) =
        (serde_json::from_str(&started[0].details).unwrap(), serde_json::from_str(&started[1].details).unwrap());
    assert_eq!(
        (page["factor"].as_str(), page["reason"].as_str(), started[0].actor.as_str()),
        (Some("15.5"), None, "staff:tesorera")
    );
    assert_eq!(
        (cli["tariff"].as_str(), cli["factor"].as_str(), cli["reason"].as_str()),
        (Some("BAS-I"), Some("40"), Some(reason))
    );

    // January 2026 (UMA 113.14 on the 1st): P-000001 only (from the 20th),
    // 40 × 1 × 113.14 = 4,525.60, due January 31.
    let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-01"]);
    assert!(
        ok && out.contains("1 servicios activos, 1 cargos nuevos, 0 ya existían; total de los cargos nuevos $4,525.60"),
        "{out}"
    );
    // March 2026 (UMA 117.31): P-000001 40 × 117.31 = 4,692.40; A-000003
    // 15.5 × 117.31 = 1,818.305 → 1,818.31; together 6,510.71.
    let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-03"]);
    assert!(
        ok && out.contains("2 servicios activos, 2 cargos nuevos, 0 ya existían; total de los cargos nuevos $6,510.71"),
        "{out}"
    );
    let p1: Vec<_> = lookup(&app, "P-000001", "basura").await;
    assert!(p1.contains(&("2026-01".into(), "4525.60".into(), "2026-01-31".into())), "{p1:?}");
    assert!(p1.contains(&("2026-03".into(), "4692.40".into(), "2026-03-31".into())), "{p1:?}");
    assert_eq!(lookup(&app, "A-000003", "basura").await, [("2026-03".into(), "1818.31".into(), "2026-03-31".into())]);

    // Twice: nothing new.
    generating_again_creates_nothing(&app, &url, "2026-03", 2).await;
    assert!(app.store.verify_audit().await.unwrap().first_bad.is_none());
}

#[tokio::test]
async fn the_treasury_charges_party_hall_services_at_their_fixed_factor() {
    let app = spawn_app().await;
    let tesorera = person(&app, "tesorera", &[Role::Tesorero]).await;
    let servicio = "/personal/tesoreria/basura/servicio";

    // The per-service tariffs, with their fixed factor (no factor to type).
    let (_, html) = tesorera.get(&app, PAGE).await;
    for (code, shown) in [
        ("BAS-G-200", "11 UMA por servicio"),
        ("BAS-G-300", "20 UMA por servicio"),
        ("BAS-G-500", "30 UMA por servicio"),
    ] {
        let row = html.split(&format!("data-tariff=\"{code}\"")).nth(1).unwrap().split("</tr>").next().unwrap();
        assert!(row.contains(shown), "{code}: {row}");
    }
    let form = html.split("data-testid=\"garbage-per-service\"").nth(1).unwrap().split("</form>").next().unwrap();
    assert!(
        form.contains("value=\"BAS-G-300\"") && !form.contains("value=\"BAS-K\"") && !form.contains("name=\"factor\""),
        "{form}"
    );
    assert!(form.contains("<label for=\"servicio-cantidad\">") && form.contains("name=\"cantidad\""), "{form}");

    // Two services of BAS-G-300: 2 × 20 UMA × 117.31 = 4,692.40, a garbage
    // charge (not a fine) due in 15 days, shown back with its quote.
    let reason = "Fiestas del 28 y 29 de noviembre de 2026";
    let fields = [("cuenta", "lc-000001"), ("tarifa", "BAS-G-300"), ("cantidad", "2"), ("motivo", reason)];
    let (status, to) = tesorera.post(&app, servicio, &fields).await;
    assert_eq!((status, to.as_str()), (303, "/personal/tesoreria/basura?aviso=servicio&cargo=1"));
    let (_, html) = tesorera.get(&app, &to).await;
    assert!(html.contains("Servicios cobrados a la cuenta"), "{html}");
    assert!(html.contains("2 servicios × 20 UMA × $117.31 (UMA de hoy) = $4,692.40"), "{html}");
    assert!(html.contains("SERV-20261121-1") && html.contains("06/12/2026") && html.contains(reason), "{html}");
    let served: Vec<_> =
        lookup(&app, "LC-000001", "basura").await.into_iter().filter(|c| c.0.starts_with("SERV-")).collect();
    assert_eq!(served, [("SERV-20261121-1".into(), "4692.40".into(), "2026-12-06".into())]);
    let set = app.store.audit_entries("garbage.charge_set", "staff:tesorera", 10).await.unwrap();
    assert_eq!(set.len(), 1);
    let entry: Value = serde_json::from_str(&set[0].details).unwrap();
    assert_eq!(
        (entry["tariff"].as_str(), entry["factor"].as_str(), entry["quantity"].as_u64(), entry["uma"].as_str()),
        (Some("BAS-G-300"), Some("20"), Some(2), Some("117.31"))
    );
    assert_eq!((entry["amount_centavos"].as_i64(), entry["reason"].as_str()), (Some(469_240), Some(reason)));

    // No count, a count that is no whole number of services, a tariff not
    // charged per service, no reason, no account: refused, nothing written.
    let charges = charge_count(&app.store).await;
    for (tariff, quantity, motivo, status, field, said) in [
        ("BAS-G-300", "0", reason, 400, "servicio-cantidad", "«0» no es un número de servicios"),
        ("BAS-G-300", "1.5", reason, 400, "servicio-cantidad", "«1.5» no es un número de servicios"),
        ("BAS-G-300", "dos", reason, 400, "servicio-cantidad", "escriba un número entero de 1 a 9999"),
        ("BAS-G-300", "", reason, 400, "servicio-cantidad", "no es un número de servicios"),
        ("BAS-G-300", "-2", reason, 400, "servicio-cantidad", "no es un número de servicios"),
        (
            "BAS-G-999",
            "2",
            reason,
            422,
            "servicio-tarifa",
            "«BAS-G-999» no es una tarifa de basura que se cobre por servicio",
        ),
        ("BAS-K", "2", reason, 422, "servicio-tarifa", "Tarifas: BAS-G-200, BAS-G-300, BAS-G-500."),
        ("BAS-G-200", "1", "corto", 422, "servicio-motivo", "Escriba el motivo"),
    ] {
        let fields = [("cuenta", "LC-000001"), ("tarifa", tariff), ("cantidad", quantity), ("motivo", motivo)];
        let (got, html) = tesorera.post(&app, servicio, &fields).await;
        assert_eq!(got, status, "{fields:?}: {html}");
        assert!(html.contains(said) && html.contains(&format!("href=\"#{field}\"")), "{fields:?}: {html}");
    }
    let (got, html) = tesorera
        .post(&app, servicio, &[("cuenta", "X-999999"), ("tarifa", "BAS-G-200"), ("cantidad", "1"), ("motivo", reason)])
        .await;
    assert!(got == 404 && html.contains("No existe la cuenta «X-999999»"), "{got} {html}");
    // The page keeps what was typed.
    let (_, html) = tesorera
        .post(
            &app,
            servicio,
            &[("cuenta", "LC-000001"), ("tarifa", "BAS-G-500"), ("cantidad", "2.5"), ("motivo", reason)],
        )
        .await;
    assert!(html.contains("value=\"2.5\"") && html.contains("<option value=\"BAS-G-500\" selected"), "{html}");
    assert_eq!(charge_count(&app.store).await, charges);
    assert_eq!(audit_count(&app.store, "garbage.charge_set").await, 1);

    // Only a tesorero: every other role is refused, and so is a form
    // without its token.
    for (name, role) in [("cajera", Role::Cajero), ("revisora", Role::Revisor), ("sistemas", Role::Admin)] {
        let other = person(&app, name, &[role]).await;
        let (status, _) = other.post(&app, servicio, &fields).await;
        assert_eq!(status, 403, "{role:?}");
    }
    let r = post_as(
        &app,
        servicio,
        &tesorera.cookie,
        "cuenta=LC-000001&tarifa=BAS-G-300&cantidad=2&motivo=Fiestas+de+noviembre&csrf=0",
    )
    .await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(charge_count(&app.store).await, charges);
    assert_eq!(audit_count(&app.store, "garbage.charge_set").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_servers_generating_the_same_month_on_postgres_create_each_charge_once() {
    crate::store_story::on_fresh_postgres("basura", |url| async move {
        let app = spawn_app_on_database(&url).await;
        let (ok, out) = recauda(&url, &["basura", "alta", "LC-000001", "BAS-C-2S", "--desde", "2026-01-15"]);
        assert!(ok, "{out}");
        let (ok, out) = recauda(&url, &["basura", "alta", "A-000003", "BAS-E-DIARIO", "--desde", "2026-01-01"]);
        assert!(ok, "{out}");
        let (ok, out) = recauda(&url, &["basura", "baja", "A-000003", "--hasta", "2026-02-28"]);
        assert!(ok, "{out}");
        let (ok, out) = recauda(&url, &["basura", "alta", "P-000002", "BAS-A-DIARIO", "--desde", "2026-04-01"]);
        assert!(ok, "{out}");
        let (ok, out) = recauda(&url, &["basura", "alta", "X-999999", "BAS-A-DIARIO", "--desde", "2026-04-01"]);
        assert!(!ok && out.contains("No existe la cuenta"), "{out}");

        // Two more servers on the same database, four runs of January at once.
        let fees =
            app::domain::garbage::monthly_fees(&app.state.municipality, Month::parse("2026-01").unwrap()).unwrap();
        let other = Store::connect(&url).await.unwrap();
        let third = Store::connect(&url).await.unwrap();
        let now = chrono::Utc::now();
        let (a, b, c, d) = tokio::join!(
            app.store.generate_garbage_charges(&fees, "cli:a", now),
            other.generate_garbage_charges(&fees, "cli:b", now),
            third.generate_garbage_charges(&fees, "cli:c", now),
            other.generate_garbage_charges(&fees, "cli:d", now),
        );
        let runs: Vec<_> = [a, b, c, d].into_iter().map(|r| r.unwrap().unwrap()).collect();
        assert!(runs.iter().all(|r| r.services == 2 && r.created + r.present == 2), "{runs:?}");
        assert_eq!(runs.iter().map(|r| r.created).sum::<u64>(), 2, "{runs:?}");
        // 16 × 113.14 + 70 × 113.14 = 1,810.24 + 7,919.80
        assert_eq!(runs.iter().map(|r| r.total.0).sum::<i64>(), 973_004);
        assert_eq!(lookup(&app, "LC-000001", "basura").await.iter().filter(|c| c.0 == "2026-01").count(), 1);
        assert_eq!(
            lookup(&app, "A-000003", "basura").await,
            [("2026-01".into(), "7919.80".into(), "2026-01-31".into())]
        );

        // A private collector (BAS-I) from March, its monthly factor set
        // within 15–100 UMA; outside it, refused with nothing written.
        let (ok, out) =
            recauda(&url, &["basura", "alta", "P-000001", "BAS-I", "--desde", "2026-02-15", "--factor", "120"]);
        assert!(!ok && out.contains("debe estar entre 15 y 100 UMA"), "{out}");
        let (ok, out) = recauda(&url, &["basura", "alta", "P-000001", "BAS-I", "--desde", "2026-02-15"]);
        assert!(!ok && out.contains("escriba el factor mensual"), "{out}");
        let (ok, out) = recauda(
            &url,
            &[
                "basura",
                "alta",
                "P-000001",
                "BAS-I",
                "--desde",
                "2026-03-01",
                "--factor",
                "40",
                "--motivo",
                "Recolectora privada",
            ],
        );
        assert!(ok && out.contains("factor 40 UMA al mes"), "{out}");
        let collector = app.store.garbage_services_from(crate::common::today(), 10).await.unwrap();
        let collector = collector.iter().find(|s| s.account == "P-000001").unwrap();
        assert_eq!(
            (collector.factor, collector.reason.as_deref()),
            (Some(rust_decimal::Decimal::from(40)), Some("Recolectora privada"))
        );

        // The command on PostgreSQL: March (A-000003 ended, P-000002 not
        // yet): LC-000001 16 × 117.31 = 1,876.96 and P-000001 (BAS-I)
        // 40 × 117.31 = 4,692.40; together 6,569.36.
        let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-03"]);
        assert!(
            ok && out
                .contains("2 servicios activos, 2 cargos nuevos, 0 ya existían; total de los cargos nuevos $6,569.36"),
            "{out}"
        );
        let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-03"]);
        assert!(ok && out.contains("2 servicios activos, 0 cargos nuevos, 2 ya existían"), "{out}");
        assert!(lookup(&app, "LC-000001", "basura").await.contains(&(
            "2026-03".into(),
            "1876.96".into(),
            "2026-03-31".into()
        )));
        assert!(lookup(&app, "P-000001", "basura").await.contains(&(
            "2026-03".into(),
            "4692.40".into(),
            "2026-03-31".into()
        )));
        // February: the collector starts in March, nothing for it.
        let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-02"]);
        assert!(ok && out.contains("2 servicios activos, 2 cargos nuevos"), "{out}");
        assert!(!lookup(&app, "P-000001", "basura").await.iter().any(|c| c.0 == "2026-02"));
        let (ok, out) = recauda(&url, &["cargos", "generar", "basura", "--mes", "2026-3"]);
        assert!(!ok && out.contains("no es un mes"), "{out}");

        // A fine within the range, and one outside it, on PostgreSQL.
        let fine = app::domain::garbage::staff_charge(
            &app.state.municipality,
            "BAS-K",
            "60",
            "Sorprendido tirando basura en la vía pública",
            crate::common::today(),
        )
        .unwrap();
        let account = app::domain::account::AccountNumber::parse("P-000002").unwrap();
        let set = app.store.set_garbage_charge(&account, &fine, "staff:tesorera", now).await.unwrap().unwrap();
        assert_eq!(
            (set.period.as_str(), set.fee.0, set.concept.as_str()),
            ("MULTA-20261121-1", 703_860, "multa_basura")
        );
        let again = app.store.set_garbage_charge(&account, &fine, "staff:tesorera", now).await.unwrap().unwrap();
        assert_eq!(again.period, "MULTA-20261121-2");
        assert_eq!(
            app::domain::garbage::staff_charge(
                &app.state.municipality,
                "BAS-K",
                "101",
                "Fuera del rango de la ley",
                crate::common::today()
            )
            .unwrap_err()
            .message_es(),
            "El importe debe estar entre 50 y 100 UMA."
        );
        // Three party-hall services on PostgreSQL: 3 × 11 × 117.31 = 3,871.23.
        let halls = app::domain::garbage::per_service_charge(
            &app.state.municipality,
            "BAS-G-200",
            "3",
            "Eventos del 28, 29 y 30 de noviembre",
            crate::common::today(),
        )
        .unwrap();
        let set = app.store.set_garbage_charge(&account, &halls, "staff:tesorera", now).await.unwrap().unwrap();
        assert_eq!((set.period.as_str(), set.quantity, set.fee.0), ("SERV-20261121-1", 3, 387_123));
        assert_eq!(app.store.garbage_staff_charge(set.id).await.unwrap().unwrap(), set);
        assert_eq!(app.store.latest_garbage_staff_charges(10).await.unwrap().len(), 3);
        assert!(app.store.verify_audit().await.unwrap().first_bad.is_none());
        other.close().await;
        third.close().await;
    })
    .await;
}
