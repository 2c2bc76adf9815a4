//! The tariffs in force (`GET /api/v1/tariffs`) and a fee's quote (`POST
//! /api/v1/quotes`) against a real server, on Loreto's municipality file.
//!
//! Every fee below was computed by hand (Python's `decimal`, ROUND_HALF_UP on
//! positive amounts, i.e. half away from zero) from the factor the seed's
//! tables give (`/work/shared/seeds/004_…txt`, "salarios mínimos" applied
//! in UMA) × the quantity charged × the UMA of the day (117.31 from
//! 2026-02-01, 113.14 before), never from the project's own code.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_app_with_limit, TestApp};

/// What a quote of a tariff must answer.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// 200: (quantity charged, fee).
    Fee(&'static str, &'static str),
    /// 422 `staff_sets_amount`: the range's (min, max) in UMA.
    StaffSets(&'static str, &'static str),
    /// 422 `not_authorized`.
    NotAuthorized,
}

/// Every tariff row of Loreto's file on 2026-03-01 (UMA 117.31): code,
/// quantity sent, answer.
const EVERY_TARIFF: &[(&str, &str, Expect)] = &[
    ("ESP-BOLETAJE", "12345.67", Expect::Fee("12345.67", "1234.57")), // 10 % × 12345.67
    ("ESP-EVENTUAL", "2", Expect::Fee("2", "2346.20")),               // 10 × 2 × 117.31
    ("ESP-EVENTUAL-ALCOHOL", "3", Expect::Fee("3", "5278.95")),       // 15 × 3 × 117.31
    ("ESP-FIESTA-DOMICILIO", "1", Expect::Fee("1", "351.93")),        // 3 × 1 × 117.31
    ("ESP-FIESTA-SALON", "1", Expect::Fee("1", "586.55")),            // 5 × 1 × 117.31
    ("BAS-A-2S", "1", Expect::Fee("1", "469.24")),                    // 4 × 1 × 117.31
    ("BAS-A-DIARIO", "12", Expect::Fee("12", "11261.76")),            // 8 × 12 × 117.31
    ("BAS-B-2S", "2", Expect::Fee("2", "1407.72")),                   // 6 × 2 × 117.31
    ("BAS-B-DIARIO", "6", Expect::Fee("6", "6334.74")),               // 9 × 6 × 117.31
    ("BAS-C-2S", "3", Expect::Fee("3", "5630.88")),                   // 16 × 3 × 117.31
    ("BAS-C-DIARIO", "1", Expect::Fee("1", "2346.20")),               // 20 × 1 × 117.31
    ("BAS-D-2S", "12", Expect::Fee("12", "22523.52")),                // 16 × 12 × 117.31
    ("BAS-D-DIARIO", "4", Expect::Fee("4", "14077.20")),              // 30 × 4 × 117.31
    ("BAS-E-2S", "5", Expect::Fee("5", "11731.00")),                  // 20 × 5 × 117.31
    ("BAS-E-DIARIO", "1", Expect::Fee("1", "8211.70")),               // 70 × 1 × 117.31
    ("BAS-F-2S", "7", Expect::Fee("7", "41058.50")),                  // 50 × 7 × 117.31
    ("BAS-G-200", "1", Expect::Fee("1", "1290.41")),                  // 11 × 1 × 117.31
    ("BAS-G-300", "2", Expect::Fee("2", "4692.40")),                  // 20 × 2 × 117.31
    ("BAS-G-500", "3", Expect::Fee("3", "10557.90")),                 // 30 × 3 × 117.31
    ("BAS-H", "1", Expect::StaffSets("0.5", "10")),
    ("BAS-I", "1", Expect::StaffSets("15", "100")),
    ("BAS-J", "2", Expect::StaffSets("15", "50")),
    ("BAS-K", "1", Expect::StaffSets("50", "100")),
    ("BAS-L", "1", Expect::StaffSets("1", "50")),
    ("VP-TAXI", "7.5", Expect::Fee("8", "2815.44")),    // 3 × 8 × 117.31
    ("VP-RESIDENTE", "6", Expect::Fee("6", "1407.72")), // 2 × 6 × 117.31
    ("VP-COMERCIAL", "10.01", Expect::Fee("11", "6452.05")), // 5 × 11 × 117.31
    ("VP-CARGA", "30", Expect::Fee("30", "3519.30")),   // 1 × 30 × 117.31
    ("VP-SONIDO", "7", Expect::Fee("7", "82.12")),      // 0.10 × 7 × 117.31
    ("VP-MONEDAS", "3", Expect::Fee("3", "87.98")),     // 0.25 × 3 × 117.31
    ("VP-SEMIFIJO", "15", Expect::Fee("15", "1759.65")), // 1 × 15 × 117.31
    ("VP-AMBULANTE", "9", Expect::Fee("9", "527.90")),  // 0.50 × 9 × 117.31
    ("VP-OTRO", "4", Expect::Fee("4", "938.48")),       // 2 × 4 × 117.31
    ("VP-CASA-RODANTE", "5", Expect::Fee("5", "586.55")), // 1 × 5 × 117.31
    ("ANU-I-A", "2.4", Expect::Fee("3", "351.93")),     // 1 × 3 × 117.31
    ("ANU-I-B", "0.5", Expect::Fee("1", "117.31")),     // 1 × 1 × 117.31
    ("ANU-I-C", "8", Expect::Fee("8", "1876.96")),      // 2 × 8 × 117.31
    ("ANU-I-D", "3", Expect::Fee("3", "351.93")),       // 1 × 3 × 117.31
    ("ANU-I-E", "12.3", Expect::Fee("13", "6100.12")),  // 4 × 13 × 117.31
    ("ANU-I-F", "1.75", Expect::Fee("2", "469.24")),    // 2 × 2 × 117.31
    ("ANU-I-G", "3.0001", Expect::Fee("4", "938.48")),  // 2 × 4 × 117.31
    ("ANU-II-A", "4", Expect::Fee("4", "469.24")),      // 1 × 4 × 117.31
    ("ANU-II-B", "2.25", Expect::Fee("3", "1055.79")),  // 3 × 3 × 117.31
    ("ANU-II-C", "5.5", Expect::Fee("6", "351.93")),    // 0.50 × 6 × 117.31
    ("ANU-III", "6", Expect::Fee("6", "703.86")),       // 1 × 6 × 117.31
    ("ANU-IV", "1", Expect::StaffSets("3", "17")),
    ("ANU-V-A", "1", Expect::Fee("1", "821.17")),  // 7 × 1 × 117.31
    ("ANU-V-B", "2", Expect::Fee("2", "3284.68")), // 14 × 2 × 117.31
    ("ANU-V-C", "1", Expect::StaffSets("20", "50")),
    ("ALC-EXP-HOTEL-4", "1", Expect::Fee("1", "211158.00")), // 1800 × 1 × 117.31
    ("ALC-EXP-HOTEL-3", "1", Expect::Fee("1", "129041.00")), // 1100 × 1 × 117.31
    ("ALC-EXP-SUPER-LICORES", "1", Expect::Fee("1", "99713.50")), // 850 × 1 × 117.31
    ("ALC-EXP-SUPER-CERVEZA", "1", Expect::Fee("1", "82117.00")), // 700 × 1 × 117.31
    ("ALC-EXP-REST-BAR", "1", Expect::Fee("1", "99713.50")), // 850 × 1 × 117.31
    ("ALC-EXP-BAR-DISCO", "1", Expect::Fee("1", "175965.00")), // 1500 × 1 × 117.31
    ("ALC-EXP-REST-CERVEZA", "1", Expect::Fee("1", "82117.00")), // 700 × 1 × 117.31
    ("ALC-EXP-CENTRO-NOCTURNO", "1", Expect::Fee("1", "480971.00")), // 4100 × 1 × 117.31
    ("ALC-EXP-CABARET", "1", Expect::Fee("1", "480971.00")), // 4100 × 1 × 117.31
    ("ALC-EXP-SALON-BAILE", "1", Expect::Fee("1", "99713.50")), // 850 × 1 × 117.31
    ("ALC-EXP-AGENCIA", "1", Expect::Fee("1", "310871.50")), // 2650 × 1 × 117.31
    ("ALC-EXP-SUBAGENCIA", "1", Expect::Fee("1", "310871.50")), // 2650 × 1 × 117.31
    ("ALC-EXP-DEPOSITO", "1", Expect::Fee("1", "87982.50")), // 750 × 1 × 117.31
    ("ALC-EXP-CANTINA", "1", Expect::Fee("1", "117310.00")), // 1000 × 1 × 117.31
    ("ALC-EXP-ULTRAMARINO", "1", Expect::Fee("1", "99713.50")), // 850 × 1 × 117.31
    ("ALC-EXP-REST-BAR-PISTA", "1", Expect::Fee("1", "129041.00")), // 1100 × 1 × 117.31
    ("ALC-EXP-EVENTUAL", "3", Expect::Fee("3", "5278.95")),  // 15 × 3 × 117.31
    ("ALC-EXP-INSTITUCION", "2", Expect::Fee("2", "1173.10")), // 5 × 2 × 117.31
    ("ALC-REF-HOTEL-4", "1", Expect::Fee("1", "15250.30")),  // 130 × 1 × 117.31
    ("ALC-REF-HOTEL-3", "1", Expect::Fee("1", "11731.00")),  // 100 × 1 × 117.31
    ("ALC-REF-SUPER-LICORES", "1", Expect::Fee("1", "11731.00")), // 100 × 1 × 117.31
    ("ALC-REF-SUPER-CERVEZA", "1", Expect::Fee("1", "7038.60")), // 60 × 1 × 117.31
    ("ALC-REF-REST-BAR", "1", Expect::Fee("1", "11731.00")), // 100 × 1 × 117.31
    ("ALC-REF-BAR-DISCO", "1", Expect::Fee("1", "17596.50")), // 150 × 1 × 117.31
    ("ALC-REF-REST-CERVEZA", "1", Expect::Fee("1", "7038.60")), // 60 × 1 × 117.31
    ("ALC-REF-CENTRO-NOCTURNO", "1", Expect::Fee("1", "23462.00")), // 200 × 1 × 117.31
    ("ALC-REF-CABARET", "1", Expect::Fee("1", "23462.00")),  // 200 × 1 × 117.31
    ("ALC-REF-SALON-BAILE", "1", Expect::Fee("1", "17596.50")), // 150 × 1 × 117.31
    ("ALC-REF-AGENCIA", "1", Expect::Fee("1", "17596.50")),  // 150 × 1 × 117.31
    ("ALC-REF-SUBAGENCIA", "1", Expect::Fee("1", "17596.50")), // 150 × 1 × 117.31
    ("ALC-REF-DEPOSITO", "1", Expect::Fee("1", "7038.60")),  // 60 × 1 × 117.31
    ("ALC-REF-CANTINA", "1", Expect::Fee("1", "11731.00")),  // 100 × 1 × 117.31
    ("ALC-REF-ULTRAMARINO", "1", Expect::Fee("1", "10557.90")), // 90 × 1 × 117.31
    ("ALC-REF-REST-BAR-PISTA", "1", Expect::Fee("1", "23462.00")), // 200 × 1 × 117.31
    ("ALC-REF-NO-ESPECIFICADO", "1", Expect::Fee("1", "14663.75")), // 125 × 1 × 117.31
    ("ALC-DOM-HOTEL-4", "1", Expect::Fee("1", "10557.90")),  // 90 × 1 × 117.31
    ("ALC-DOM-HOTEL-3", "1", Expect::Fee("1", "10557.90")),  // 90 × 1 × 117.31
    ("ALC-DOM-SUPER-LICORES", "1", Expect::Fee("1", "10557.90")), // 90 × 1 × 117.31
    ("ALC-DOM-SUPER-CERVEZA", "1", Expect::Fee("1", "9384.80")), // 80 × 1 × 117.31
    ("ALC-DOM-REST-BAR", "1", Expect::Fee("1", "10557.90")), // 90 × 1 × 117.31
    ("ALC-DOM-BAR-DISCO", "1", Expect::Fee("1", "10557.90")), // 90 × 1 × 117.31
    ("ALC-DOM-REST-CERVEZA", "1", Expect::Fee("1", "9384.80")), // 80 × 1 × 117.31
    ("ALC-DOM-CENTRO-NOCTURNO", "1", Expect::Fee("1", "21115.80")), // 180 × 1 × 117.31
    ("ALC-DOM-CABARET", "1", Expect::Fee("1", "21115.80")),  // 180 × 1 × 117.31
    ("ALC-DOM-SALON-BAILE", "1", Expect::Fee("1", "11731.00")), // 100 × 1 × 117.31
    ("ALC-DOM-AGENCIA", "1", Expect::Fee("1", "11731.00")),  // 100 × 1 × 117.31
    ("ALC-DOM-SUBAGENCIA", "1", Expect::Fee("1", "10557.90")), // 90 × 1 × 117.31
    ("ALC-DOM-DEPOSITO", "1", Expect::Fee("1", "10557.90")), // 90 × 1 × 117.31
    ("ALC-DOM-CANTINA", "1", Expect::Fee("1", "10557.90")),  // 90 × 1 × 117.31
    ("ALC-DOM-ULTRAMARINO", "1", Expect::Fee("1", "10557.90")), // 90 × 1 × 117.31
    ("ALC-DOM-REST-BAR-PISTA", "1", Expect::Fee("1", "21115.80")), // 180 × 1 × 117.31
    ("ALC-DOM-NO-ESPECIFICADO", "1", Expect::Fee("1", "9384.80")), // 80 × 1 × 117.31
    ("ALC-HEX-SUPER-LICORES", "2", Expect::Fee("2", "234.62")), // 1 × 2 × 117.31
    ("ALC-HEX-SUPER-CERVEZA", "1", Expect::Fee("1", "117.31")), // 1 × 1 × 117.31
    ("ALC-HEX-REST-BAR", "3", Expect::Fee("3", "351.93")),   // 1 × 3 × 117.31
    ("ALC-HEX-BAR-DISCO", "2", Expect::Fee("2", "469.24")),  // 2 × 2 × 117.31
    ("ALC-HEX-REST-CERVEZA", "4", Expect::Fee("4", "469.24")), // 1 × 4 × 117.31
    ("ALC-HEX-CENTRO-NOCTURNO", "3", Expect::Fee("3", "703.86")), // 2 × 3 × 117.31
    ("ALC-HEX-CABARET", "1", Expect::Fee("1", "234.62")),    // 2 × 1 × 117.31
    ("ALC-HEX-SALON-BAILE", "5", Expect::Fee("5", "586.55")), // 1 × 5 × 117.31
    ("ALC-HEX-AGENCIA", "1", Expect::NotAuthorized),
    ("ALC-HEX-SUBAGENCIA", "1", Expect::NotAuthorized),
    ("ALC-HEX-DEPOSITO", "1", Expect::NotAuthorized),
    ("ALC-HEX-CANTINA", "2", Expect::Fee("2", "469.24")), // 2 × 2 × 117.31
    ("ALC-HEX-ULTRAMARINO", "1", Expect::Fee("1", "117.31")), // 1 × 1 × 117.31
];

async fn quote(app: &TestApp, body: Value) -> (u16, Value) {
    app.post_json("/api/v1/quotes", &body).await
}

/// A refusal is the API's one error shape and nothing else: `{"error":
/// {"code", "message"}}`, the message in Spanish.
fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str, fragment: &str, what: &str) {
    assert_eq!((status, body["error"]["code"].as_str()), (want_status, Some(want_code)), "{what}: {body}");
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error"], "{what}: {body}");
    assert!(
        body["error"].as_object().unwrap().keys().all(|k| ["code", "message", "hint"].contains(&k.as_str())),
        "{what}: {body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(fragment), "{what}: {message:?} should say {fragment:?}");
}

#[tokio::test]
async fn every_tariff_of_loreto_is_quoted_to_the_centavo() {
    let app = spawn_app().await;
    let mut quoted = BTreeSet::new();
    for &(code, quantity, expect) in EVERY_TARIFF {
        let (status, body) = quote(&app, json!({"tariff": code, "quantity": quantity, "date": "2026-03-01"})).await;
        match expect {
            Expect::Fee(charged, fee) => {
                assert_eq!(status, 200, "{code}: {body}");
                assert_eq!(body["fee"], fee, "{code}: {body}");
                assert_eq!(body["quantity_charged"], charged, "{code}: {body}");
                assert_eq!(body["quantity_given"], quantity, "{code}: {body}");
                assert_eq!(body["tariff"], code);
                assert_eq!(body["date"], "2026-03-01");
                assert_eq!(body["currency"], "MXN");
                if body["unit"] == "percent_of_sales" {
                    assert!(body["uma"].is_null(), "{code}: {body}");
                } else {
                    assert_eq!(body["uma"]["daily_value"], "117.31", "{code}: {body}");
                }
            }
            Expect::StaffSets(min, max) => {
                let range = format!("entre {min} y {max} UMA");
                assert_error(status, &body, 422, "staff_sets_amount", &range, code);
            }
            Expect::NotAuthorized => {
                assert_error(status, &body, 422, "not_authorized", "No se autoriza", code);
            }
        }
        assert!(quoted.insert(code), "{code} is twice in the table");
    }
    // The table covers exactly the tariffs in force: one added to the file
    // without a quote here fails.
    let (status, doc) = app.get_json("/api/v1/tariffs?date=2026-03-01").await;
    assert_eq!(status, 200, "{doc}");
    let listed: BTreeSet<&str> =
        doc["tariffs"].as_array().unwrap().iter().map(|t| t["code"].as_str().unwrap()).collect();
    assert_eq!(listed, quoted);
    assert_eq!(quoted.len(), 114);
}

#[tokio::test]
async fn the_uma_changes_on_the_first_of_february() {
    let app = spawn_app().await;
    // 0.5 UMA × 3 days: × 113.14 = 169.71; × 117.31 = 175.965 → 175.97.
    let (status, jan) = quote(&app, json!({"tariff": "VP-AMBULANTE", "quantity": "3", "date": "2026-01-31"})).await;
    assert_eq!((status, jan["fee"].as_str()), (200, Some("169.71")), "{jan}");
    assert_eq!(jan["uma"], json!({"daily_value": "113.14", "valid_from": "2025-02-01", "valid_until": "2026-01-31"}));
    assert_eq!(jan["factor"], "0.5");
    let (status, feb) = quote(&app, json!({"tariff": "VP-AMBULANTE", "quantity": "3", "date": "2026-02-01"})).await;
    assert_eq!((status, feb["fee"].as_str()), (200, Some("175.97")), "{feb}");
    assert_eq!(feb["uma"], json!({"daily_value": "117.31", "valid_from": "2026-02-01", "valid_until": null}));
    // 0.10 UMA × 3 days: 33.942 → 33.94; 35.193 → 35.19.
    let (_, jan) = quote(&app, json!({"tariff": "VP-SONIDO", "quantity": "3", "date": "2026-01-31"})).await;
    let (_, feb) = quote(&app, json!({"tariff": "VP-SONIDO", "quantity": "3", "date": "2026-02-01"})).await;
    assert_eq!((jan["fee"].as_str(), feb["fee"].as_str()), (Some("33.94"), Some("35.19")));
    // Without a date, the quote is of today in the municipality: a server
    // whose today is 2026-01-31 quotes at 113.14.
    let eve = app.on_day(NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()).await;
    let (status, today) = quote(&eve, json!({"tariff": "VP-AMBULANTE", "quantity": "3"})).await;
    assert_eq!((status, today["fee"].as_str(), today["date"].as_str()), (200, Some("169.71"), Some("2026-01-31")));
    // A date explicitly null is today too.
    let (_, null_date) = quote(&eve, json!({"tariff": "VP-AMBULANTE", "quantity": "3", "date": null})).await;
    assert_eq!(null_date["fee"], "169.71");
}

#[tokio::test]
async fn a_fraction_of_a_square_metre_is_charged_as_a_whole_one() {
    let app = spawn_app().await;
    // ANU-I-E: 4 UMA per m² or fraction, a year.
    for (quantity, charged, fee) in [
        ("12.3", "13", "6100.12"),    // 4 × 13 × 117.31
        ("12.0001", "13", "6100.12"), // a ten-thousandth more is a whole metre more
        ("13", "13", "6100.12"),
        ("12", "12", "5630.88"), // 4 × 12 × 117.31: a whole number is not rounded up
        ("0.01", "1", "469.24"),
    ] {
        let (status, body) =
            quote(&app, json!({"tariff": "ANU-I-E", "quantity": quantity, "date": "2026-03-01"})).await;
        assert_eq!(status, 200, "{quantity}: {body}");
        assert_eq!((body["quantity_charged"].as_str(), body["fee"].as_str()), (Some(charged), Some(fee)), "{quantity}");
    }
    let (_, body) = quote(&app, json!({"tariff": "ANU-I-E", "quantity": "12.3", "date": "2026-03-01"})).await;
    assert_eq!(body["quantity_given"], "12.3");
    assert_eq!(body["factor"], "4");
    assert_eq!(body["unit"], "square_metre_year");
    assert_eq!(body["unit_label"], "por m² o fracción, al año");
    assert_eq!(body["name"], "Anuncios espectaculares, por metro cuadrado o fracción, anual");
    assert!(body["legal_basis"].as_str().unwrap().starts_with("Ley de Hacienda para el Municipio de Loreto"));
    assert!(body["law"].as_str().unwrap().contains("2026"));
    // Five decimals of a metre are more than anyone measures.
    let (status, body) = quote(&app, json!({"tariff": "ANU-I-E", "quantity": "12.00001"})).await;
    assert_error(status, &body, 400, "invalid_quantity", "cuatro decimales", "12.00001 m²");
}

#[tokio::test]
async fn ten_percent_of_the_ticket_sales_to_the_centavo() {
    let app = spawn_app().await;
    for (sales, fee) in [
        ("12345.67", "1234.57"), // 1,234.567 → 1,234.57
        ("0.05", "0.01"),        // 0.005: half a centavo goes up
        ("0.04", "0.00"),        // 0.004 goes down
        ("100000000", "10000000.00"),
    ] {
        let (status, body) = quote(&app, json!({"tariff": "ESP-BOLETAJE", "quantity": sales})).await;
        assert_eq!((status, body["fee"].as_str()), (200, Some(fee)), "{sales}: {body}");
        assert!(body["uma"].is_null(), "{body}");
        assert_eq!(body["factor"], "10");
        assert_eq!(body["date"], "2026-11-21", "today by default");
    }
    let (status, body) = quote(&app, json!({"tariff": "ESP-BOLETAJE", "quantity": "1.005"})).await;
    assert_error(status, &body, 400, "invalid_quantity", "dos decimales", "1.005 pesos");
    let (status, body) = quote(&app, json!({"tariff": "ESP-BOLETAJE", "quantity": "100000000.01"})).await;
    assert_error(status, &body, 400, "invalid_quantity", "no puede ser mayor que 100000000", "over the limit");
}

#[tokio::test]
async fn bad_requests_are_a_400_in_spanish_and_nothing_else() {
    let app = spawn_app().await;
    let long = "9".repeat(40);
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"tariff": "NO-EXISTE", "quantity": "1"}), "unknown_tariff", "No existe la tarifa NO-EXISTE"),
        (json!({"tariff": "anu-i-e", "quantity": "1"}), "unknown_tariff", "No existe la tarifa"),
        (json!({"tariff": "", "quantity": "1"}), "unknown_tariff", "No existe la tarifa"),
        (json!({"tariff": "ANU-I-E", "quantity": "0"}), "invalid_quantity", "mayor que cero"),
        (json!({"tariff": "ANU-I-E", "quantity": "0.0"}), "invalid_quantity", "mayor que cero"),
        (json!({"tariff": "ANU-I-E", "quantity": "-3"}), "invalid_quantity", "sin signo"),
        (json!({"tariff": "ANU-I-E", "quantity": "-0"}), "invalid_quantity", "sin signo"),
        (json!({"tariff": "ANU-I-E", "quantity": "abc"}), "invalid_quantity", "por ejemplo \"12.5\""),
        (json!({"tariff": "ANU-I-E", "quantity": "1e5"}), "invalid_quantity", "exponente"),
        (json!({"tariff": "ANU-I-E", "quantity": " 12 "}), "invalid_quantity", "espacios"),
        (json!({"tariff": "ANU-I-E", "quantity": ""}), "invalid_quantity", "Escriba la cantidad"),
        (json!({"tariff": "ANU-I-E", "quantity": "١٢"}), "invalid_quantity", "Escriba la cantidad"),
        (json!({"tariff": "ANU-I-E", "quantity": "12,5"}), "invalid_quantity", "Escriba la cantidad"),
        (json!({"tariff": "ANU-I-E", "quantity": long}), "invalid_quantity", "hasta 20 caracteres"),
        (json!({"tariff": "ANU-I-E", "quantity": "1000001"}), "invalid_quantity", "no puede ser mayor que 1000000"),
        (json!({"tariff": "VP-CARGA", "quantity": "1.5"}), "invalid_quantity", "número entero"),
        (json!({"tariff": "ANU-I-E", "quantity": 12}), "invalid_json", "no como número"),
        (json!({"tariff": "ANU-I-E", "quantity": 12.3}), "invalid_json", "no como número"),
        (json!({"tariff": "ANU-I-E"}), "invalid_json", "\"quantity\""),
        (json!({"quantity": "1"}), "invalid_json", "\"tariff\""),
        (json!({"tariff": "ANU-I-E", "quantity": "1", "date": "2026-02-30"}), "invalid_date", "AAAA-MM-DD"),
        (json!({"tariff": "ANU-I-E", "quantity": "1", "date": "01/03/2026"}), "invalid_date", "AAAA-MM-DD"),
        (json!({"tariff": "ANU-I-E", "quantity": "1", "date": 20260301}), "invalid_json", "sin otros campos"),
        (json!({"tariff": "ANU-I-E", "quantity": "1", "descuento": "50"}), "invalid_json", "sin otros campos"),
        (json!({"tariff": "ANU-I-E", "quantity": "1", "date": "2025-12-31"}), "no_schedule", "No hay tarifas vigentes"),
        (json!(["ANU-I-E", "1"]), "invalid_json", "La solicitud no tiene la forma esperada"),
        // serde would read the struct from its fields in order; the body is an object.
        (json!(["ANU-I-E", "1", null]), "invalid_json", "La solicitud no tiene la forma esperada"),
        (json!("ANU-I-E"), "invalid_json", "La solicitud no tiene la forma esperada"),
        (Value::Null, "invalid_json", "La solicitud no tiene la forma esperada"),
    ];
    for (body, code, fragment) in cases {
        let (status, answer) = quote(&app, body.clone()).await;
        assert_error(status, &answer, 400, code, fragment, &body.to_string());
    }
    // A code as long as the body allows is not echoed back whole.
    let (status, answer) = quote(&app, json!({"tariff": "A".repeat(10_000), "quantity": "1"})).await;
    assert_error(status, &answer, 400, "unknown_tariff", &"A".repeat(40), "a long code");
    assert!(answer["error"]["message"].as_str().unwrap().len() < 200, "{answer}");
    // Not JSON at all, and not declared as JSON.
    let (status, answer) = app.post_raw("/api/v1/quotes", "application/json", "{\"tariff\": ").await;
    assert_error(status, &answer, 400, "invalid_json", "no es un JSON válido", "truncated JSON");
    let (status, answer) = app.post_raw("/api/v1/quotes", "text/plain", "tariff=ANU-I-E&quantity=1").await;
    assert_error(status, &answer, 415, "unsupported_media_type", "JSON", "a form body");
}

#[tokio::test]
async fn the_tariffs_in_force_with_their_rates_and_the_uma_of_the_day() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/tariffs").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["date"], "2026-11-21", "today by default");
    assert_eq!(doc["valid_from"], "2026-01-01");
    assert!(doc["law"].as_str().unwrap().starts_with("Ley de Hacienda para el Municipio de Loreto"));
    assert_eq!(doc["uma"], json!({"daily_value": "117.31", "valid_from": "2026-02-01", "valid_until": null}));
    let tariffs = doc["tariffs"].as_array().unwrap();
    assert_eq!(tariffs.len(), 114);
    let tariff = |code: &str| tariffs.iter().find(|t| t["code"] == code).unwrap_or_else(|| panic!("{code}")).clone();

    let e = tariff("ANU-I-E");
    assert_eq!(e["rate"], json!({"kind": "uma", "factor": "4"}));
    assert_eq!(e["group"], json!({"code": "anuncios-permanentes", "name": "Anuncios permanentes (anual)"}));
    assert_eq!((e["concept"].as_str(), e["procedure"].as_str()), (Some("anuncios"), Some("anuncios")));
    assert_eq!(
        (e["unit"].as_str(), e["unit_label"].as_str()),
        (Some("square_metre_year"), Some("por m² o fracción, al año"))
    );
    assert_eq!(e["quantity_label"], "Metros cuadrados");
    assert_eq!((e["rules"].clone(), e["giro"].clone(), e["max_days"].clone()), (json!([]), Value::Null, Value::Null));

    let k = tariff("BAS-K");
    assert_eq!(k["rate"], json!({"kind": "uma_range", "min": "50", "max": "100"}));
    assert_eq!(k["rules"], json!(["El personal fija el importe entre 50 y 100 UMA."]));
    assert_eq!(k["concept"], "multa_basura");
    assert_eq!(tariff("BAS-H")["rate"], json!({"kind": "uma_range", "min": "0.5", "max": "10"}));

    let hex = tariff("ALC-HEX-AGENCIA");
    let reason = "La ley no autoriza horas extras a este giro (agencias, sub-agencias y depósitos).";
    assert_eq!(hex["rate"], json!({"kind": "not_authorized", "reason": reason}));
    assert_eq!(hex["rules"], json!([reason]));
    assert_eq!(hex["giro"], json!({"code": "AGENCIA", "name": "Agencia"}));
    assert_eq!(hex["unit"], "hour");

    assert_eq!(tariff("ESP-BOLETAJE")["rate"], json!({"kind": "percent", "percent": "10"}));
    assert_eq!(tariff("VP-SONIDO")["rate"], json!({"kind": "uma", "factor": "0.1"}));
    let stall = tariff("VP-SEMIFIJO");
    assert_eq!(stall["max_area_m2"], "10");
    assert_eq!(stall["rules"], json!(["Superficie máxima: 10 m²."]));
    let eventual = tariff("ANU-II-A");
    assert_eq!(eventual["max_days"], 30);
    assert_eq!(eventual["rules"], json!(["Plazo máximo: 30 días."]));

    // Another day: the UMA of that day and its period.
    let (status, jan) = app.get_json("/api/v1/tariffs?date=2026-01-31").await;
    assert_eq!(status, 200, "{jan}");
    assert_eq!(jan["date"], "2026-01-31");
    assert_eq!(jan["uma"], json!({"daily_value": "113.14", "valid_from": "2025-02-01", "valid_until": "2026-01-31"}));
    assert_eq!(jan["tariffs"].as_array().unwrap().len(), 114);

    for (query, code, fragment) in [
        ("date=nope", "invalid_date", "AAAA-MM-DD"),
        ("date=", "invalid_date", "AAAA-MM-DD"),
        ("date=2026-02-30", "invalid_date", "AAAA-MM-DD"),
        ("date=2025-12-31", "no_schedule", "No hay tarifas vigentes el 2025-12-31"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/tariffs?{query}")).await;
        assert_error(status, &body, 400, code, fragment, query);
    }
}

#[tokio::test]
async fn the_openapi_document_describes_tariffs_and_quotes() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["tags"].as_array().unwrap().iter().any(|t| t["name"] == "tarifas"), "{}", doc["tags"]);
    let list = &doc["paths"]["/api/v1/tariffs"]["get"];
    assert_eq!(list["operationId"], "getTariffs");
    assert_eq!(list["tags"], json!(["tarifas"]));
    for status in ["200", "400", "429"] {
        assert!(list["responses"][status].is_object(), "GET /api/v1/tariffs {status}");
    }
    assert_eq!(list["parameters"][0]["name"], "date");
    let create = &doc["paths"]["/api/v1/quotes"]["post"];
    assert_eq!(create["operationId"], "createQuote");
    assert_eq!(create["tags"], json!(["tarifas"]));
    for status in ["200", "400", "413", "415", "422", "429"] {
        assert!(create["responses"][status].is_object(), "POST /api/v1/quotes {status}");
    }
    assert!(create["responses"]["429"]["headers"]["Retry-After"].is_object());
    let request = &doc["components"]["schemas"]["QuoteRequest"];
    assert_eq!(request["required"], json!(["tariff", "quantity"]));
    assert_eq!(request["properties"]["quantity"]["type"], "string");
    let quote = &doc["components"]["schemas"]["Quote"]["required"];
    for field in ["tariff", "fee", "factor", "quantity_given", "quantity_charged", "date", "law", "legal_basis"] {
        assert!(quote.as_array().unwrap().iter().any(|f| f == field), "{field}");
    }
    // The new codes are in the one list of the error shape.
    let codes = &doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
    for code in
        ["unknown_tariff", "invalid_quantity", "invalid_date", "no_schedule", "not_authorized", "staff_sets_amount"]
    {
        assert!(codes.as_array().unwrap().iter().any(|c| c == code), "{code}");
    }
}

#[tokio::test]
async fn tariffs_and_quotes_share_one_budget_per_address() {
    // A base budget of 1 a minute: tariffs get four times that.
    let app = spawn_app_with_limit(1).await;
    for i in 0..4 {
        let status = if i % 2 == 0 {
            app.get("/api/v1/tariffs").await.status().as_u16()
        } else {
            quote(&app, json!({"tariff": "ANU-I-E", "quantity": "1"})).await.0
        };
        assert_eq!(status, 200, "request {i}");
    }
    let refused = app.client.post(format!("{}/api/v1/quotes", app.base)).json(&json!({})).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // The lookups' budget is their own.
    assert_eq!(app.get("/api/v1/debts?account=LC-000001").await.status(), 200);
}
