//! Alcohol licences through their pages, as a browser without JavaScript
//! uses them: the lookup by number and RFC (a wrong RFC tells nothing),
//! this year's renewal fee of the giro, the no-debt check before a renewal
//! (and before its payment), the renewal straight to payment and its
//! certificate verified by its QR code, a second renewal refused, extra
//! hours refused where the law says so and on Sundays, changes going to
//! review, and a new licence that needs the Cabildo's approval and, once
//! paid for real (not through the demonstration provider), enters the
//! registry as ALC-2026-0001 (past any number an imported licence holds),
//! its year of issue being its first refrendo. The last tests hold the
//! store's rule "one live renewal per licence and year" on SQLite and
//! PostgreSQL.
//!
//! Figures (today 2026-11-21, UMA $117.31): BAR-DISCO refrendo 150 UMA =
//! $17,596.50; CANTINA refrendo 100 UMA = $11,731.00 and change of address
//! 90 UMA = $10,557.90; CANTINA extra hours 2 UMA an hour, 2 hours =
//! $469.24.

use app::domain::permits::RequestStatus;
use app::domain::staff::Role;
use app::store::Store;

use crate::common::{location, pay_as_stripe, spawn_app, TestApp};
use crate::permits::{assert_ids_unique, csrf_of, form_html, Browser, PDF};
use crate::staff::{get_as, post_as, session, staff};

/// The registry of the tests. GODE561231GR8 owes a predial of the test
/// padrón (P-000001, due 2026-01-31); the other two holders owe nothing.
const LICENCES: &str = "\
number,rfc,name,giro,address,hours,status
ALC-0001,GODE561231GR8,Emilio Gómez Díaz,BAR-DISCO,\"Calle Salvatierra 12, Centro\",20:00 a 02:00,vigente
ALC-0002,BLG100315K73,\"Bebidas La Giganta, S.A. de C.V.\",AGENCIA,\"Calle Madero 8, Centro\",09:00 a 21:00,
ALC-0003,DCO120601HJ4,\"Distribuidora Coronado, S.A. de C.V.\",CANTINA,\"Calle Hidalgo 20, Zaragoza\",12:00 a 00:00,
ALC-0004,CDL090210QW7,\"Hotel Misión de Loreto, S.A. de C.V.\",HOTEL-4,\"Boulevard López Mateos 1, Centro\",,
";

async fn with_licences(app: &TestApp) {
    let rows = server::licence_import::parse_licences(LICENCES.as_bytes(), &app.state.municipality)
        .unwrap_or_else(|e| panic!("{e}"));
    let summary = app.store.import_licences(&rows, "cli:test", app.state.clock.now()).await.unwrap();
    assert_eq!((summary.created, summary.updated, summary.unchanged), (4, 0, 0));
}

/// The extra-hours form's fields.
fn hours(licencia: &str, rfc: &str, day: &str, csrf: &str) -> Vec<(String, String)> {
    [
        ("csrf", csrf),
        ("licencia", licencia),
        ("rfc", rfc),
        ("fecha", day),
        ("horas", "2"),
        ("horario", "00:00 a 02:00"),
        ("correo", "dueno@ejemplo.mx"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn licence_path(number: &str, rfc: &str) -> String {
    format!("/licencias?licencia={number}&rfc={rfc}")
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let statement = format!("SELECT count(*) FROM {table}");
    sqlx::query_scalar(statement.as_str()).fetch_one(app.store.pool()).await.unwrap()
}

/// The token of the request a 303 sends to (`/tramites/solicitud/{token}?aviso=…`).
fn request_token(r: &reqwest::Response) -> String {
    let to = location(r);
    let rest = to.strip_prefix("/tramites/solicitud/").unwrap_or_else(|| panic!("{to}"));
    rest.split('?').next().unwrap().to_string()
}

#[tokio::test]
async fn a_licence_is_found_by_its_number_and_its_holder_s_rfc_only() {
    let app = spawn_app().await;
    with_licences(&app).await;

    // The lookup form, linked from the home page and from the catalogue.
    let (status, html) = crate::common::page(&app, "/licencias").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"licence-lookup\"") && html.contains("method=\"get\""), "{html}");
    let (_, home) = crate::common::page(&app, "/").await;
    assert!(home.contains("data-testid=\"home-licence-link\" href=\"/licencias\""), "{home}");
    let (_, alcoholes) = crate::common::page(&app, "/tramites/alcoholes").await;
    assert!(alcoholes.contains("href=\"/licencias\" data-testid=\"licence-link\""), "{alcoholes}");
    assert!(alcoholes.contains("Refrendar mi licencia"));

    // A right number with another (valid) RFC, and an unknown number with
    // the right RFC: the same refusal, nothing of the licence shown.
    let (status, wrong_rfc) = crate::common::page(&app, &licence_path("ALC-0001", "BLG100315K73")).await;
    assert_eq!(status, 404);
    let (status, unknown) = crate::common::page(&app, &licence_path("ALC-9999", "GODE561231GR8")).await;
    assert_eq!(status, 404);
    for html in [&wrong_rfc, &unknown] {
        assert!(html.contains("No encontramos una licencia con ese número y ese RFC."), "{html}");
        assert!(!html.contains("data-testid=\"licence\""));
        assert!(!html.contains("discoteca") && !html.contains("Salvatierra") && !html.contains("E***** G"));
    }
    // A malformed RFC is a typing error, said as such.
    let (status, html) = crate::common::page(&app, &licence_path("ALC-0001", "XYZ")).await;
    assert_eq!(status, 400);
    assert!(html.contains("data-testid=\"error-summary\""));

    // Number (any case) and RFC: the licence, its holder masked, this
    // year's refrendo for its giro with the legal basis and the formula:
    // 150 UMA × 1 × $117.31 = $17,596.50.
    let (status, html) = crate::common::page(&app, &licence_path("alc-0001", "gode561231gr8")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-testid=\"licence-number\">ALC-0001"), "{html}");
    assert!(html.contains("E***** G**** D***") && !html.contains("Emilio"), "masked holder");
    assert!(html.contains("data-testid=\"licence-giro\">Bar y/o discoteca"));
    assert!(html.contains("data-tariff=\"ALC-REF-BAR-DISCO\""));
    assert!(html.contains("data-testid=\"quote-fee\">$17,596.50"), "{html}");
    assert!(html.contains("150 UMA × 1 × $117.31"));
    assert!(html.contains("fracción I (refrendos)"), "the legal basis");
    assert!(html.contains("Refrendo 2026"));
    // Its holder owes a predial already due: said, linked, and no renewal form.
    assert!(html.contains("data-testid=\"licence-debts\""));
    assert!(html.contains("href=\"/consulta?cuenta=P-000001\""), "{html}");
    assert!(html.contains("Impuesto predial") && html.contains("2026-B1") && html.contains("$1,000.00"));
    assert!(!html.contains("data-testid=\"renewal-form\""));
    // Concepts the file does not name (licencia_comercial, basura) do not count.
    assert!(!html.contains("LC-000001"));
}

/// The licence's pages in English (asked by `?lang=en` or the cookie),
/// Spanish otherwise; their three forms give each field an id of their
/// own (names unchanged), and a refusal's summary links to the form that
/// was sent.
#[tokio::test]
async fn the_licence_pages_speak_english_and_each_form_has_its_own_ids() {
    let app = spawn_app().await;
    with_licences(&app).await;

    // The lookup and its refusals.
    let (status, html) = crate::common::page(&app, "/licencias?lang=en").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\">") && html.contains(">Renew my alcohol licence (refrendo)<"), "{html}");
    assert!(html.contains(">Find my licence<") && !html.contains("Buscar mi licencia"));
    assert_ids_unique(&html);
    let (status, html) =
        crate::common::page(&app, &format!("{}&lang=en", licence_path("ALC-9999", "GODE561231GR8"))).await;
    assert_eq!(status, 404);
    assert!(html.contains("We could not find a licence with that number and that RFC."), "{html}");
    let (status, html) = crate::common::page(&app, &format!("{}&lang=en", licence_path("ALC-0001", "XYZ"))).await;
    assert_eq!(status, 400);
    assert!(html.contains("Invalid RFC"), "{html}");

    // A licence whose holder owes the predial: its fee and its debts in
    // English; the giro, the law and the tariff stay in Spanish.
    let (_, html) = crate::common::page(&app, &format!("{}&lang=en", licence_path("ALC-0001", "GODE561231GR8"))).await;
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains(">2026 renewal (refrendo): the fee to pay<"), "{html}");
    assert!(html.contains("150 UMA × 1 × $117.31 (UMA since 2026-02-01)"), "{html}");
    assert!(html.contains(">Before renewing, pay the following<") && html.contains(">Property tax<"), "{html}");
    assert!(html.contains(">2026-01-31<") && html.contains("data-testid=\"licence-status\">In force<"), "{html}");
    assert!(html.contains("data-testid=\"licence-giro\">Bar y/o discoteca"));
    assert_ids_unique(&html);

    // A cantina's page has the three forms: in Spanish by default, each
    // with its own ids for the fields they share, the names unchanged.
    let page = licence_path("ALC-0003", "DCO120601HJ4");
    let (_, html) = crate::common::page(&app, &page).await;
    assert!(html.contains("<html lang=\"es-MX\">") && html.contains(">Refrendar para 2026<"), "{html}");
    assert_ids_unique(&html);
    for (testid, prefix, fields) in [
        ("renewal-form", "refrendo", &["correo", "telefono", "giro", "domicilio", "horario"][..]),
        ("address-form", "domicilio", &["domicilio", "correo", "telefono"][..]),
        ("extra-hours-form", "horas", &["fecha", "horas", "horario", "correo", "telefono"][..]),
    ] {
        let form = form_html(&html, testid);
        for field in fields {
            assert!(form.contains(&format!("<label for=\"{prefix}-{field}\">")), "{testid} {field}: {form}");
            assert!(form.contains(&format!(" id=\"{prefix}-{field}\" name=\"{field}\"")), "{testid} {field}: {form}");
        }
    }

    // In English (the cookie): a refused form's errors link to that form's
    // own inputs.
    let mut business = Browser::english(&app);
    let (_, html) = business.get(&app, &page).await;
    assert!(html.contains(">Renew for 2026<") && html.contains(">Extra hours (Monday to Saturday)<"), "{html}");
    assert!(html.contains("Rate: 2 UMA per hour. Not authorised on Sundays."), "{html}");
    assert_ids_unique(&html);
    let csrf = csrf_of(&html);
    let fields = |correo: &'static str, domicilio: &'static str| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("licencia".into(), "ALC-0003".into()),
            ("rfc".into(), "DCO120601HJ4".into()),
            ("correo".into(), correo.into()),
            ("domicilio".into(), domicilio.into()),
        ]
    };
    let r = business.post_owned(&app, "/licencias/refrendo", &fields("cantina", "")).await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<a href=\"#refrendo-correo\">Type a valid e-mail address, for example name@example.com.</a>"),
        "{html}"
    );
    assert!(form_html(&html, "renewal-form").contains(" id=\"refrendo-correo-error\""), "{html}");
    assert!(!form_html(&html, "address-form").contains("field-error"), "only the form sent shows errors");
    assert_ids_unique(&html);
    let r = business.post_owned(&app, "/licencias/domicilio", &fields("cantina", "Calle Hidalgo 20, Zaragoza")).await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("<a href=\"#domicilio-correo\">Type a valid e-mail address"), "{html}");
    assert!(
        html.contains("<a href=\"#domicilio-domicilio\">The new address is the same as the registered one.</a>"),
        "{html}"
    );
    assert_ids_unique(&html);
    let r = business
        .post_owned(&app, "/licencias/horas-extra", &hours("ALC-0003", "DCO120601HJ4", "2026-11-29", &csrf))
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("<a href=\"#horas-fecha\">Extra hours are only authorised Monday to Saturday"), "{html}");
    assert_ids_unique(&html);
    // The same refusal in Spanish, linked alike.
    let mut spanish = Browser::new();
    let (_, html) = spanish.get(&app, &page).await;
    let mut es = fields("cantina", "");
    es[0].1 = csrf_of(&html);
    let html = spanish.post_owned(&app, "/licencias/refrendo", &es).await.text().await.unwrap();
    assert!(html.contains("<a href=\"#refrendo-correo\">Escriba un correo electrónico válido"), "{html}");

    // Renewed in English: straight to payment, then a second one refused.
    let r = business.post_owned(&app, "/licencias/refrendo", &fields("cantina@ejemplo.mx", "")).await;
    let to = location(&r);
    assert!(to.ends_with("?aviso=refrendo"), "{to}");
    let (_, html) = business.get(&app, &to).await;
    assert!(html.contains("Renewal (refrendo) recorded with no changes"), "{html}");
    assert!(html.contains(">Approved – awaiting payment</span>") && html.contains(">Pay the fee<"), "{html}");
    assert_ids_unique(&html);
    let r = business.post_owned(&app, "/licencias/refrendo", &fields("cantina@ejemplo.mx", "")).await;
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("This licence's 2026 renewal (refrendo) is already under way: request SOL-2026-000001"));
    assert!(html.contains(">2026 renewal<") && html.contains(">This licence's requests<"), "{html}");
    assert_ids_unique(&html);

    // Where extra hours cannot be asked for, the page says why in English.
    let (_, html) = business.get(&app, &licence_path("ALC-0002", "BLG100315K73")).await;
    assert!(html.contains("data-testid=\"extra-hours-refused\">Not authorised: La ley no autoriza"), "{html}");
    let (_, html) = business.get(&app, &licence_path("ALC-0004", "CDL090210QW7")).await;
    assert!(html.contains("The law sets no extra-hours tariff for this licence's giro"), "{html}");
}

#[tokio::test]
async fn a_renewal_waits_for_the_predial_then_goes_straight_to_payment_and_its_certificate_verifies() {
    let app = spawn_app().await;
    with_licences(&app).await;
    let mut business = Browser::new();
    let page = licence_path("ALC-0001", "GODE561231GR8");
    let (_, html) = business.get(&app, &page).await;
    let csrf = csrf_of(&html);
    let fields: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("licencia", "ALC-0001"),
        ("rfc", "GODE561231GR8"),
        ("correo", "bar@ejemplo.mx"),
        ("telefono", ""),
        ("giro", ""),
        ("domicilio", ""),
        ("horario", ""),
    ];

    // Without the form's token: refused, nothing filed.
    let mut stranger = Browser::new();
    let r = stranger.post(&app, "/licencias/refrendo", &fields[1..]).await;
    assert_eq!(r.status().as_u16(), 403);

    // The predial is due: refused with what to pay first, nothing written.
    let r = business.post(&app, "/licencias/refrendo", &fields).await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("No se puede refrendar la licencia mientras haya adeudos vencidos"), "{html}");
    assert!(html.contains("href=\"/consulta?cuenta=P-000001\"") && html.contains("2026-B1"), "{html}");
    assert_eq!(count(&app, "permit_requests").await, 0);

    // The predial paid (an order of its account, paid online): allowed.
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "P-000001" })).await;
    assert_eq!(status, 201, "{order}");
    pay_as_stripe(&app, order["id"].as_str().unwrap()).await;
    let (_, html) = business.get(&app, &page).await;
    assert!(!html.contains("data-testid=\"licence-debts\""), "{html}");
    assert!(html.contains("data-testid=\"renewal-form\""));

    // Nothing changed: approved by the system as it is filed, straight to
    // payment, and the browser that filed it opens it at once.
    let r = business.post(&app, "/licencias/refrendo", &fields).await;
    let token = request_token(&r);
    assert!(location(&r).ends_with("?aviso=refrendo"));
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Approved);
    assert_eq!(request.number, "SOL-2026-000001");
    assert_eq!(request.licence.as_ref().and_then(|l| l.year), Some(2026));
    assert_eq!(request.lines.len(), 1);
    assert_eq!(request.lines[0].tariff, "ALC-REF-BAR-DISCO");
    assert_eq!(request.fee.map(|f| f.0), Some(1_759_650));
    let request_page = format!("/tramites/solicitud/{token}");
    let (status, html) = business.get(&app, &request_page).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-status=\"approved\""), "{html}");
    assert!(html.contains("Refrendo sin cambios: pasa directo a pago"));
    let steps: Vec<&str> = html.split("data-action=\"").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    assert_eq!(steps, ["submit", "approve"]);
    assert!(html.contains("data-testid=\"request-total\">$17,596.50"));
    assert!(html.contains("data-testid=\"request-pay\""));
    let events = app.store.permit_request_events(request.id).await.unwrap();
    assert_eq!(events[1].actor, "system");

    // A second renewal of the same licence this year: refused, nothing new.
    let r = business.post(&app, "/licencias/refrendo", &fields).await;
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("ya tiene el refrendo 2026 en trámite: solicitud SOL-2026-000001"), "{html}");
    assert_eq!(count(&app, "permit_requests").await, 1);

    // Paid with the request page's own button (the existing order form).
    let (_, html) = business.get(&app, &request_page).await;
    let csrf = csrf_of(&html);
    let charge = html.split("name=\"cargo\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = business
        .post(&app, "/orden", &[("csrf", &csrf), ("cuenta", "SOL-2026-000001"), ("rfc", ""), ("cargo", &charge)])
        .await;
    let order_token = location(&r).trim_start_matches("/orden/").to_string();
    pay_as_stripe(&app, &order_token).await;

    // Issued: the renewed licence's certificate, for the calendar year.
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Issued);
    let permit = app.store.permit_of_request(request.id).await.unwrap().unwrap();
    assert_eq!(permit.folio.to_string(), "PER-2026-000001");
    assert_eq!(permit.scope.tariff, "ALC-REF-BAR-DISCO");
    assert_eq!(
        (permit.scope.starts_on.to_string(), permit.scope.ends_on.to_string()),
        ("2026-01-01".into(), "2026-12-31".into())
    );
    assert_eq!(permit.scope.measure, "Licencia ALC-0001 · Giro: Bar y/o discoteca");
    assert_eq!(permit.scope.hours, "20:00 a 02:00");
    assert_eq!(permit.scope.location, "Calle Salvatierra 12, Centro");
    assert_eq!(permit.scope.holder, "Emilio Gómez Díaz");
    let r = business.download(&app, &format!("{request_page}/permiso.pdf")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("refrendo-PER-2026-000001.pdf"));
    let pdf = lopdf::Document::load_mem(&r.bytes().await.unwrap()).unwrap();
    let text = crate::common::pdf::text(&pdf);
    assert!(text.contains("Refrendo de licencia ALC-0001 — ejercicio 2026"), "{text}");
    assert!(text.contains("ejercicio fiscal 2026") && text.contains("01/01/2026 al 31/12/2026"), "{text}");
    assert!(text.contains("PER-2026-000001") && text.contains("GODE561231GR8"), "{text}");
    let url = crate::common::pdf::qr_in_pdf(&pdf);
    let verify = url.split_once("/p/").map(|(_, rest)| format!("/p/{rest}")).expect("a permit URL");
    let (status, html) = crate::common::page(&app, &verify).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-verdict=\"authentic\""), "{html}");
    assert!(html.contains("01/01/2026 al 31/12/2026") && html.contains("Licencia ALC-0001"));

    // The licence's page shows this year's renewal, issued; still no second one.
    let (_, html) = business.get(&app, &page).await;
    assert!(html.contains("data-testid=\"renewal-under-way\""));
    assert!(html.contains("data-status=\"issued\""));
    assert!(!html.contains("data-testid=\"renewal-form\""));
}

#[tokio::test]
async fn a_renewal_cannot_be_paid_while_a_debt_falls_due_unless_paid_together() {
    let app = spawn_app().await;
    with_licences(&app).await;
    let mut business = Browser::new();
    let (_, html) = business.get(&app, &licence_path("ALC-0003", "DCO120601HJ4")).await;
    let csrf = csrf_of(&html);
    let r = business
        .post(
            &app,
            "/licencias/refrendo",
            &[("csrf", &csrf), ("licencia", "ALC-0003"), ("rfc", "DCO120601HJ4"), ("correo", "cantina@ejemplo.mx")],
        )
        .await;
    let token = request_token(&r);
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Approved);
    let renewal_charges = app.store.permit_request_open_charges(&request).await.unwrap();

    // Meanwhile the padrón brings a predial of the holder, already due.
    let padron = "account,kind,rfc,name,colonia,concept,period,due_date,amount\n\
                  P-000777,predial,DCO120601HJ4,\"Distribuidora Coronado, S.A. de C.V.\",Zaragoza,predial,2026-B5,2026-09-30,2500.00\n";
    let rows = server::import::parse_padron(padron.as_bytes()).unwrap();
    app.store.import_padron(&rows, &|_| {}).await.unwrap();

    // The renewal alone: refused, with what to pay first.
    let (_, html) = business.get(&app, &format!("/tramites/solicitud/{token}")).await;
    let csrf = csrf_of(&html);
    let charge = renewal_charges[0].to_string();
    let r = business.post(&app, "/orden", &[("csrf", &csrf), ("cuenta", &request.number), ("cargo", &charge)]).await;
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("El refrendo de la licencia ALC-0003 no se puede pagar"), "{html}");
    assert!(html.contains("cuenta P-000777: Impuesto predial, periodo 2026-B5, $2,500.00"), "{html}");
    let (status, body) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": request.number })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("licence_debts_unpaid")), "{body}");

    // Both in one order (by the RFC): the debt is paid with the renewal.
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "rfc": "DCO120601HJ4" })).await;
    assert_eq!(status, 201, "{order}");
    pay_as_stripe(&app, order["id"].as_str().unwrap()).await;
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Issued);
}

#[tokio::test]
async fn extra_hours_are_refused_where_the_law_says_so_and_on_sundays() {
    let app = spawn_app().await;
    with_licences(&app).await;
    let mut business = Browser::new();

    // An agencia: "no se autoriza" — said on the page, refused if posted.
    let (_, html) = business.get(&app, &licence_path("ALC-0002", "BLG100315K73")).await;
    assert!(html.contains("data-testid=\"extra-hours-refused\">No se autoriza"), "{html}");
    assert!(!html.contains("data-testid=\"extra-hours-form\""));
    let csrf = csrf_of(&html);
    let r = business
        .post_owned(&app, "/licencias/horas-extra", &hours("ALC-0002", "BLG100315K73", "2026-11-28", &csrf))
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("No se autoriza: La ley no autoriza horas extras a este giro"));

    // A hotel: its giro has no extra-hours tariff; not offered, refused.
    let (_, html) = business.get(&app, &licence_path("ALC-0004", "CDL090210QW7")).await;
    assert!(html.contains("data-testid=\"extra-hours-refused\""), "{html}");
    assert!(!html.contains("data-testid=\"extra-hours-form\""));
    let r = business
        .post_owned(&app, "/licencias/horas-extra", &hours("ALC-0004", "CDL090210QW7", "2026-11-28", &csrf))
        .await;
    assert_eq!(r.status().as_u16(), 422);

    // A cantina: offered at 2 UMA an hour; never on a Sunday (2026-11-29).
    let (_, html) = business.get(&app, &licence_path("ALC-0003", "DCO120601HJ4")).await;
    assert!(html.contains("data-testid=\"extra-hours-form\""), "{html}");
    assert!(html.contains("2 UMA por hora"));
    let r = business
        .post_owned(&app, "/licencias/horas-extra", &hours("ALC-0003", "DCO120601HJ4", "2026-11-29", &csrf))
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Las horas extras solo se autorizan de lunes a sábado"), "{html}");
    assert!(html.contains("value=\"2026-11-29\""), "what was typed stays");
    assert_eq!(count(&app, "permit_requests").await, 0);

    // On a Saturday: filed for review, 2 × 2 × $117.31 = $469.24.
    let r = business
        .post_owned(&app, "/licencias/horas-extra", &hours("ALC-0003", "DCO120601HJ4", "2026-11-28", &csrf))
        .await;
    assert!(location(&r).ends_with("?aviso=enviada"));
    let request = app.store.permit_request_by_token(&request_token(&r)).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Submitted);
    assert_eq!(request.lines[0].tariff, "ALC-HEX-CANTINA");
    assert_eq!(request.fee.map(|f| f.0), Some(46_924));
    assert_eq!(
        (request.scope.starts_on.to_string(), request.scope.hours.as_str()),
        ("2026-11-28".into(), "00:00 a 02:00")
    );
    assert_eq!(request.licence.as_ref().map(|l| (l.year, l.change.is_none())), Some((None, true)));
}

#[tokio::test]
async fn changes_go_to_review_and_the_registry_takes_them_once_paid() {
    let app = spawn_app().await;
    with_licences(&app).await;
    staff(&app, "revisora", &[Role::Revisor]).await;
    let mut business = Browser::new();
    let (_, html) = business.get(&app, &licence_path("ALC-0003", "DCO120601HJ4")).await;
    let csrf = csrf_of(&html);
    assert!(html.contains("data-testid=\"address-fee\">Derecho: $10,557.90"), "{html}");

    // A renewal with a new address: to review, with the new giro's refrendo
    // and the change of address; the scope says what changes.
    let r = business
        .post(
            &app,
            "/licencias/refrendo",
            &[
                ("csrf", &csrf),
                ("licencia", "ALC-0003"),
                ("rfc", "DCO120601HJ4"),
                ("correo", "cantina@ejemplo.mx"),
                ("giro", ""),
                ("domicilio", "Calle Pino Suárez 4, Centro"),
                ("horario", ""),
            ],
        )
        .await;
    assert!(location(&r).ends_with("?aviso=enviada"));
    let token = request_token(&r);
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Submitted);
    let tariffs: Vec<&str> = request.lines.iter().map(|l| l.tariff.as_str()).collect();
    assert_eq!(tariffs, ["ALC-REF-CANTINA", "ALC-DOM-CANTINA"]);
    assert_eq!(request.fee.map(|f| f.0), Some(1_173_100 + 1_055_790));
    assert_eq!(request.scope.location, "Calle Pino Suárez 4, Centro");
    assert!(request.scope.description.contains("Cambios solicitados: domicilio"), "{}", request.scope.description);

    // The revisor sees it, with the licence as registered, and approves it.
    let cookie = session(&app, "revisora").await;
    let queue = get_as(&app, "/personal/revision", Some(&cookie)).await.text().await.unwrap();
    assert!(queue.contains(&format!("data-number=\"{}\"", request.number)), "{queue}");
    let review = format!("/personal/revision/{token}");
    let html = get_as(&app, &review, Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"review-licence\"") && html.contains("Refrendo del ejercicio 2026"), "{html}");
    assert!(html.contains("Calle Hidalgo 20, Zaragoza") && html.contains("Calle Pino Suárez 4, Centro"));
    assert!(!html.contains("data-testid=\"review-cabildo\""), "a renewal needs no Cabildo");
    let t = csrf_of(&html);
    let r = post_as(&app, &format!("{review}/aprobar"), &cookie, &format!("csrf={t}")).await;
    assert_eq!(location(&r), format!("{review}?aviso=aprobada"));

    // A separate change of address meanwhile is a request of its own.
    let r = business
        .post(
            &app,
            "/licencias/domicilio",
            &[
                ("csrf", &csrf),
                ("licencia", "ALC-0002"),
                ("rfc", "BLG100315K73"),
                ("domicilio", "Calle Hidalgo 3, Centro"),
                ("correo", "agencia@ejemplo.mx"),
            ],
        )
        .await;
    let other = app.store.permit_request_by_token(&request_token(&r)).await.unwrap().unwrap();
    assert_eq!((other.status, other.lines[0].tariff.as_str()), (RequestStatus::Submitted, "ALC-DOM-AGENCIA"));

    // Paid: the permit is issued and the registry takes the new address.
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": request.number })).await;
    assert_eq!(status, 201, "{order}");
    pay_as_stripe(&app, order["id"].as_str().unwrap()).await;
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Issued);
    let licence = app.store.licence_by_number("ALC-0003").await.unwrap().unwrap();
    assert_eq!(licence.address, "Calle Pino Suárez 4, Centro");
    assert_eq!(licence.giro, "CANTINA");
    let trail = app.store.audit_entries("licence.changed", "", 5).await.unwrap();
    assert_eq!(trail.len(), 1);
}

/// The documents of a new licence's checklist, each a PDF.
const NEW_LICENCE_DOCUMENTS: [&str; 8] = [
    "doc-acta-nacimiento",
    "doc-no-antecedentes",
    "doc-croquis",
    "doc-distribucion",
    "doc-constancia-salud",
    "doc-uso-suelo",
    "doc-proteccion-civil",
    "doc-formato",
];

/// The holder of the new licences of these tests (in no padrón, owing nothing).
const NEW_HOLDER_RFC: &str = "CPE150301QX5";

/// Sends the form of a new cantina licence (ALC-EXP-CANTINA) from the
/// applicant's browser, with every document, the holder's RFC and the
/// establishment's hours as given.
async fn send_new_licence(app: &TestApp, applicant: &mut Browser, rfc: &str, hours: &str) -> reqwest::Response {
    let (_, html) = applicant.get(app, "/tramites/alcoholes/solicitar").await;
    let csrf = csrf_of(&html);
    let files: Vec<(&str, &str, &[u8])> = NEW_LICENCE_DOCUMENTS.iter().map(|d| (*d, "documento.pdf", PDF)).collect();
    applicant
        .post_multipart(
            app,
            "/tramites/alcoholes/enviar",
            &[
                ("csrf", &csrf),
                ("tarifa", "ALC-EXP-CANTINA"),
                ("tipo", "nuevo"),
                ("inicio", "2026-12-01"),
                ("cantidad", "1"),
                ("ubicacion", "Calle Zapata 9, Zaragoza"),
                ("horario", hours),
                ("nombre", "Cantina El Pescador"),
                ("correo", "pescador@ejemplo.mx"),
                ("rfc", rfc),
                ("telefono", ""),
                ("accion", "enviar"),
            ],
            &files,
        )
        .await
}

/// The revisor approves a new licence's request with the Cabildo's
/// agreement (session of 2026-11-12, agreement 45/2026).
async fn approve_with_cabildo(app: &TestApp, token: &str) {
    let cookie = session(app, "revisora").await;
    let review = format!("/personal/revision/{token}");
    let html = get_as(app, &review, Some(&cookie)).await.text().await.unwrap();
    let t = csrf_of(&html);
    let body = format!("csrf={t}&cabildo_fecha=2026-11-12&cabildo_acuerdo=45%2F2026");
    let r = post_as(app, &format!("{review}/aprobar"), &cookie, &body).await;
    assert_eq!(location(&r), format!("{review}?aviso=aprobada"));
}

/// A new licence filed, approved with the Cabildo's agreement (the
/// revisora exists) and paid with a real payment (an order of the
/// request's account): its token.
async fn new_licence_paid(app: &TestApp) -> String {
    let mut applicant = Browser::new();
    let token = request_token(&send_new_licence(app, &mut applicant, NEW_HOLDER_RFC, "12:00 a 00:00").await);
    approve_with_cabildo(app, &token).await;
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": request.number })).await;
    assert_eq!(status, 201, "{order}");
    pay_as_stripe(app, order["id"].as_str().unwrap()).await;
    token
}

/// A new licence from its request to the registry: the form asks for what
/// the registry needs (the holder's RFC, the hours), the revisor approves
/// it only with the Cabildo's agreement, and once paid the licence is
/// registered as ALC-2026-0001 in the transaction that issues its permit:
/// the request, the permit (signed with the number) and the timeline name
/// it, and its page asks for no refrendo this year.
async fn a_new_licence_story(app: &TestApp) {
    staff(app, "revisora", &[Role::Revisor]).await;
    let mut applicant = Browser::new();

    // The generic form offers the new licences, not a licence's own steps.
    let (_, html) = applicant.get(app, "/tramites/alcoholes/solicitar").await;
    assert!(html.contains("value=\"ALC-EXP-CANTINA\""), "{html}");
    assert!(html.contains("value=\"ALC-EXP-EVENTUAL\""));
    for own in ["ALC-REF-", "ALC-DOM-", "ALC-HEX-"] {
        assert!(!html.contains(&format!("value=\"{own}")), "{own}");
    }

    // Without the holder's RFC or the establishment's hours: refused, each
    // said at its field, nothing filed.
    let r = send_new_licence(app, &mut applicant, "", "").await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Una licencia nueva se inscribe a nombre del RFC de su titular"), "{html}");
    assert!(html.contains("Escriba el horario de funcionamiento del establecimiento"), "{html}");
    assert_eq!(count(app, "permit_requests").await, 0);

    let r = send_new_licence(app, &mut applicant, NEW_HOLDER_RFC, "12:00 a 00:00").await;
    let token = request_token(&r);
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Submitted);
    assert!(request.is_new_licence() && !request.renewal);
    assert_eq!(request.new_licence_giro.as_deref(), Some("CANTINA"));
    assert_eq!(request.licence, None, "no licence until it is paid");
    // A licence runs to the end of the year; 1000 UMA = $117,310.00.
    assert_eq!(request.scope.ends_on.to_string(), "2026-12-31");
    assert_eq!(request.scope.measure, "Giro: Cantina");
    assert_eq!(request.scope.hours, "12:00 a 00:00");
    assert_eq!(request.fee.map(|f| f.0), Some(11_731_000));

    // The review asks for the Cabildo's approval; without it nothing moves.
    let cookie = session(app, "revisora").await;
    let review = format!("/personal/revision/{token}");
    let html = get_as(app, &review, Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"review-cabildo\""), "{html}");
    let t = csrf_of(&html);
    let accounts = count(app, "accounts").await;
    let entries = app.store.latest_audit(1).await.unwrap()[0].seq;
    for body in [
        format!("csrf={t}"),
        format!("csrf={t}&cabildo_fecha=2026-11-12&cabildo_acuerdo="),
        format!("csrf={t}&cabildo_fecha=&cabildo_acuerdo=45%2F2026"),
        format!("csrf={t}&cabildo_fecha=2026-12-01&cabildo_acuerdo=45%2F2026"),
    ] {
        let r = post_as(app, &format!("{review}/aprobar"), &cookie, &body).await;
        assert_eq!(r.status().as_u16(), 422, "{body}");
        assert!(r.text().await.unwrap().contains("Cabildo"));
    }
    let unchanged = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!((unchanged.status, unchanged.account_id), (RequestStatus::Submitted, None));
    assert_eq!(count(app, "accounts").await, accounts, "no account, no charge");
    assert_eq!(app.store.latest_audit(1).await.unwrap()[0].seq, entries, "nothing in the trail");

    // With the session's date and the agreement: approved, recorded.
    let body =
        format!("csrf={t}&cabildo_fecha=2026-11-12&cabildo_acuerdo=45%2F2026&condiciones=Sin+m%C3%BAsica+en+vivo.");
    let r = post_as(app, &format!("{review}/aprobar"), &cookie, &body).await;
    assert_eq!(location(&r), format!("{review}?aviso=aprobada"));
    let approved = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(approved.status, RequestStatus::Approved);
    let cabildo = "Aprobada por el H. Cabildo en sesión del 12/11/2026, acuerdo 45/2026.";
    assert_eq!(approved.scope.conditions, format!("{cabildo} Sin música en vivo."));
    let events = app.store.permit_request_events(approved.id).await.unwrap();
    assert_eq!(events.last().unwrap().comment.as_deref(), Some(cabildo));
    let page_path = format!("/tramites/solicitud/{token}");
    let (_, html) = applicant.get(app, &page_path).await;
    assert!(html.contains(cabildo), "shown to the applicant: {html}");
    assert_eq!(count(app, "alcohol_licences").await, 0, "approved is not registered");

    // Paid (a real payment): the permit is issued and the licence registered.
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": approved.number })).await;
    assert_eq!(status, 201, "{order}");
    pay_as_stripe(app, order["id"].as_str().unwrap()).await;
    let licence = app.store.licence_by_number("ALC-2026-0001").await.unwrap().expect("registered");
    assert_eq!((licence.holder_rfc.as_str(), licence.holder_name.as_str()), (NEW_HOLDER_RFC, "Cantina El Pescador"));
    assert_eq!((licence.giro.as_str(), licence.address.as_str()), ("CANTINA", "Calle Zapata 9, Zaragoza"));
    assert_eq!(licence.hours, "12:00 a 00:00");
    assert_eq!(licence.status, app::domain::licences::LicenceStatus::Active);
    assert_eq!(count(app, "alcohol_licences").await, 1);

    // The request names its licence, with the year of issue as its renewal's.
    let issued = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(issued.status, RequestStatus::Issued);
    let link = issued.licence.clone().expect("the request names its licence");
    assert_eq!((link.licence_id, link.year, link.change), (licence.id, Some(2026), None));
    assert_eq!(issued.scope.licence.as_deref(), Some("ALC-2026-0001"));
    let events = app.store.permit_request_events(issued.id).await.unwrap();
    let issue = events.last().unwrap();
    assert_eq!(issue.action, "issue");
    assert_eq!(
        issue.comment.as_deref(),
        Some("Folio PER-2026-000001. Licencia ALC-2026-0001 inscrita en el padrón de licencias.")
    );
    let trail = app.store.audit_entries("licence.registered", "", 5).await.unwrap();
    assert_eq!(trail.len(), 1);

    // The permit's signed scope carries the number; its page and its
    // check say it.
    let permit = app.store.permit_of_request(issued.id).await.unwrap().unwrap();
    assert_eq!(permit.folio.to_string(), "PER-2026-000001");
    assert_eq!(permit.scope.licence.as_deref(), Some("ALC-2026-0001"));
    assert!(permit.scope.signed_text("PER-2026-000001").ends_with("\nlicence=ALC-2026-0001"));
    let (_, html) = applicant.get(app, &page_path).await;
    assert!(html.contains("data-testid=\"scope-licence\">ALC-2026-0001"), "{html}");
    assert!(html.contains("data-testid=\"permit-licence\">Licencia <strong>ALC-2026-0001</strong>"), "{html}");
    assert!(html.contains(&format!("href=\"/licencias?licencia=ALC-2026-0001&amp;rfc={NEW_HOLDER_RFC}\"")), "{html}");
    assert!(html.contains("Licencia ALC-2026-0001 inscrita en el padrón de licencias."), "the timeline");
    let url = app::permits::permit_url(&app.state.public_url, &permit).unwrap();
    let verify = format!("/p/{}", url.split_once("/p/").unwrap().1);
    let (status, html) = crate::common::page(app, &verify).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-verdict=\"authentic\""), "{html}");
    assert!(html.contains("data-testid=\"permit-licence\">ALC-2026-0001"), "{html}");
    let r = applicant.download(app, &format!("{page_path}/permiso.pdf")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("licencia-PER-2026-000001.pdf"));
    let pdf = lopdf::Document::load_mem(&r.bytes().await.unwrap()).unwrap();
    let text = crate::common::pdf::text(&pdf);
    assert!(text.contains("Licencia de funcionamiento ALC-2026-0001"), "{text}");
    assert!(text.contains(NEW_HOLDER_RFC) && text.contains(cabildo), "{text}");

    // Its page, by number and RFC: issued this year, which is this year's
    // refrendo: no fee, no renewal form; one filed anyway is refused.
    let mut business = Browser::new();
    let (status, html) = business.get(app, &licence_path("ALC-2026-0001", NEW_HOLDER_RFC)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-testid=\"licence-number\">ALC-2026-0001"), "{html}");
    assert!(html.contains("data-testid=\"licence-giro\">Cantina"));
    assert!(html.contains("data-testid=\"licence-address\">Calle Zapata 9, Zaragoza"));
    assert!(html.contains("data-testid=\"licence-issued-this-year\""), "{html}");
    assert!(html.contains("no hay refrendo que pagar este año"));
    assert!(!html.contains("data-testid=\"renewal-fee\"") && !html.contains("data-testid=\"renewal-form\""));
    assert!(html.contains("Expedición 2026"), "the history names the expedition");
    let csrf = csrf_of(&html);
    let r = business
        .post(
            app,
            "/licencias/refrendo",
            &[("csrf", &csrf), ("licencia", "ALC-2026-0001"), ("rfc", NEW_HOLDER_RFC), ("correo", "p@ejemplo.mx")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("El refrendo 2026 de esta licencia ya está cubierto"), "{html}");
    assert_eq!(count(app, "permit_requests").await, 1);
}

#[tokio::test]
async fn a_new_licence_from_its_request_to_the_registry() {
    let app = spawn_app().await;
    a_new_licence_story(&app).await;

    // Next year its page asks for the year's refrendo: 100 UMA for a cantina.
    let next_year = app.on_day(chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()).await;
    let (status, html) = crate::common::page(&next_year, &licence_path("ALC-2026-0001", NEW_HOLDER_RFC)).await;
    assert_eq!(status, 200);
    assert!(!html.contains("data-testid=\"licence-issued-this-year\""), "{html}");
    assert!(html.contains("Refrendo 2027") && html.contains("data-testid=\"renewal-fee\""), "{html}");
    assert!(html.contains("data-testid=\"quote-fee\">$11,731.00"), "{html}");
    assert!(html.contains("data-testid=\"renewal-form\""), "{html}");
}

/// The same story on PostgreSQL: the registration's statements run on both.
#[tokio::test]
async fn a_new_licence_from_its_request_to_the_registry_on_postgres() {
    crate::store_story::on_fresh_postgres("newlicence", |url| async move {
        a_new_licence_story(&crate::common::spawn_app_on_database(&url).await).await;
    })
    .await;
}

#[tokio::test]
async fn a_new_licence_skips_a_number_an_imported_licence_holds() {
    let app = spawn_app().await;
    // The registry already holds ALC-2026-0001 (numbered by hand before).
    let csv = "number,rfc,name,giro,address,hours,status\n\
               ALC-2026-0001,GODE561231GR8,Emilio Gómez Díaz,BAR-DISCO,\"Calle Salvatierra 12, Centro\",,\n";
    let rows = server::licence_import::parse_licences(csv.as_bytes(), &app.state.municipality).unwrap();
    app.store.import_licences(&rows, "cli:test", app.state.clock.now()).await.unwrap();
    staff(&app, "revisora", &[Role::Revisor]).await;

    let token = new_licence_paid(&app).await;
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Issued, "the payment stands");
    assert_eq!(request.scope.licence.as_deref(), Some("ALC-2026-0002"));
    let new = app.store.licence_by_number("ALC-2026-0002").await.unwrap().expect("the next number");
    assert_eq!((new.holder_rfc.as_str(), new.giro.as_str()), (NEW_HOLDER_RFC, "CANTINA"));
    assert_eq!(request.licence.map(|l| l.licence_id), Some(new.id));
    // The imported one is untouched.
    let imported = app.store.licence_by_number("ALC-2026-0001").await.unwrap().unwrap();
    assert_eq!((imported.holder_rfc.as_str(), imported.giro.as_str()), ("GODE561231GR8", "BAR-DISCO"));
    let trail = app.store.audit_entries("licence.registered", "", 5).await.unwrap();
    assert_eq!(trail.len(), 1);
    let details: serde_json::Value = serde_json::from_str(&trail[0].details).unwrap();
    assert_eq!(details["numbers_already_held"], serde_json::json!(["ALC-2026-0001"]), "{details}");

    // The next one takes the number after: none is used twice.
    let token = new_licence_paid(&app).await;
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.scope.licence.as_deref(), Some("ALC-2026-0003"));
}

#[tokio::test]
async fn a_new_licence_without_its_holder_s_rfc_is_issued_and_left_for_the_office_to_register() {
    let app = spawn_app().await;
    staff(&app, "revisora", &[Role::Revisor]).await;
    let mut applicant = Browser::new();
    let token = request_token(&send_new_licence(&app, &mut applicant, NEW_HOLDER_RFC, "12:00 a 00:00").await);
    // As a request filed before the form asked for the RFC.
    app.sql(&format!("UPDATE permit_requests SET applicant_rfc = NULL WHERE token = '{token}'")).await;
    approve_with_cabildo(&app, &token).await;
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": request.number })).await;
    assert_eq!(status, 201, "{order}");
    pay_as_stripe(&app, order["id"].as_str().unwrap()).await;

    // The payment stands and the permit is issued; the registry waits for
    // the office, as the timeline says.
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Issued);
    assert_eq!((request.licence, request.scope.licence), (None, None));
    assert_eq!(count(&app, "alcohol_licences").await, 0);
    let events = app.store.permit_request_events(request.id).await.unwrap();
    let note = events.last().unwrap().comment.clone().unwrap();
    assert!(note.starts_with("Folio PER-2026-000001. La licencia no se inscribió en el padrón"), "{note}");
}

#[tokio::test]
async fn a_new_licence_paid_through_the_demonstration_provider_registers_nothing() {
    let app = spawn_app().await;
    staff(&app, "revisora", &[Role::Revisor]).await;
    let mut applicant = Browser::new();
    let token = request_token(&send_new_licence(&app, &mut applicant, NEW_HOLDER_RFC, "12:00 a 00:00").await);
    approve_with_cabildo(&app, &token).await;

    // Paid with the request page's button through the demonstration provider.
    let page_path = format!("/tramites/solicitud/{token}");
    let (_, html) = applicant.get(&app, &page_path).await;
    let csrf = csrf_of(&html);
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    let charge = html.split("name=\"cargo\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = applicant.post_form(&app, "/orden", &format!("csrf={csrf}&cuenta={}&cargo={charge}", request.number)).await;
    let order = location(&r).trim_start_matches("/orden/").to_string();
    let r = applicant.post_form(&app, &format!("/orden/{order}/pagar"), &format!("csrf={csrf}")).await;
    assert_eq!(location(&r), format!("/prueba/pago/{order}"));
    let r =
        applicant.post_form(&app, &format!("/prueba/pago/{order}/accion"), &format!("csrf={csrf}&accion=pagar")).await;
    assert_eq!(r.status().as_u16(), 303, "the demonstration payment is applied");

    // A demonstration permit, and no licence: no money moved.
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Issued);
    assert_eq!((request.licence, request.scope.licence), (None, None));
    let permit = app.store.permit_of_request(request.id).await.unwrap().unwrap();
    assert_eq!(permit.folio.to_string(), "PDEM-2026-000001");
    assert_eq!(permit.scope.licence, None);
    assert_eq!(count(&app, "alcohol_licences").await, 0);
    assert!(app.store.audit_entries("licence.registered", "", 5).await.unwrap().is_empty());
    let (_, html) = applicant.get(&app, &page_path).await;
    assert!(!html.contains("data-testid=\"permit-licence\""), "{html}");
}

/// The rule "one live renewal per licence and year" in the store: the
/// check answers, and the database's own index holds even for a row
/// written around it; a cancelled renewal leaves room for a new one.
async fn one_live_renewal_per_licence_and_year(store: Store) {
    let m = app::domain::municipality::Municipality::from_toml_str(include_str!(
        "../../../config/municipalities/loreto.toml"
    ))
    .unwrap();
    let today = crate::common::today();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-21T18:00:00Z").unwrap().to_utc();
    let padron = "account,kind,rfc,name,colonia,concept,period,due_date,amount\n\
                  P-000001,predial,GODE561231GR8,Emilio Gómez Díaz,Centro,predial,2026-B1,2026-01-31,1000.00\n";
    store.import_padron(&server::import::parse_padron(padron.as_bytes()).unwrap(), &|_| {}).await.unwrap();
    let rows = server::licence_import::parse_licences(LICENCES.as_bytes(), &m).unwrap();
    store.import_licences(&rows, "cli:test", now).await.unwrap();
    let again = store.import_licences(&rows, "cli:test", now).await.unwrap();
    assert_eq!((again.created, again.unchanged), (0, 4), "importing again changes nothing");
    let uma = m.uma_table().unwrap();
    let form = app::licences::RenewalForm {
        contact: app::licences::Contact { email: "bar@ejemplo.mx".into(), phone: String::new() },
        ..Default::default()
    };

    // The holder of ALC-0001 owes a predial: refused, nothing written.
    let owing = store.licence_by_number("ALC-0001").await.unwrap().unwrap();
    let p = app::licences::prepare_renewal(&m, &uma, &owing, &form, today).unwrap();
    let check = app::licences::paid_up_check(&m, &owing, today);
    let refused = store.file_licence_request(&p.request, Some(&check), p.approval.as_ref(), now, today).await.unwrap();
    match refused {
        Err(app::store::LicenceRefusal::Debts(debts)) => {
            assert_eq!(debts.len(), 1);
            assert_eq!((debts[0].charge.account.as_str(), debts[0].charge.period.as_str()), ("P-000001", "2026-B1"));
        }
        other => panic!("expected the predial: {other:?}"),
    }

    // ALC-0003 owes nothing: filed and approved by the system; a second one refused.
    let licence = store.licence_by_number("ALC-0003").await.unwrap().unwrap();
    let check = app::licences::paid_up_check(&m, &licence, today);
    let p = app::licences::prepare_renewal(&m, &uma, &licence, &form, today).unwrap();
    let first = store.file_licence_request(&p.request, Some(&check), p.approval.as_ref(), now, today).await.unwrap();
    let first = first.expect("filed");
    assert_eq!(first.status, RequestStatus::Approved);
    assert!(first.account_id.is_some(), "its fee is a charge of its own account");
    let second = store.file_licence_request(&p.request, Some(&check), p.approval.as_ref(), now, today).await.unwrap();
    assert!(matches!(second, Err(app::store::LicenceRefusal::RenewalExists { year: 2026, .. })), "{second:?}");

    // Around the check, the index refuses a second live row of that year.
    let insert = |number: &str, status: &str| {
        format!(
            "INSERT INTO permit_requests (token, number, procedure, kind, status, applicant_name, applicant_email, \
             scope, lines, filed_on, created_at, updated_at, licence_id, licence_year) \
             SELECT token || 'x', '{number}', procedure, kind, '{status}', applicant_name, applicant_email, scope, \
             lines, filed_on, created_at, updated_at, licence_id, licence_year FROM permit_requests WHERE id = {}",
            first.id
        )
    };
    let e = sqlx::query(&insert("SOL-2026-900001", "submitted")).execute(store.pool()).await.unwrap_err();
    assert!(matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation()), "{e}");
    // A cancelled one does not count: once the live one is cancelled, a new one fits.
    sqlx::query(&insert("SOL-2026-900002", "cancelled")).execute(store.pool()).await.unwrap();
    let cancel = format!("UPDATE permit_requests SET status = 'cancelled' WHERE id = {}", first.id);
    sqlx::query(&cancel).execute(store.pool()).await.unwrap();
    let third = store.file_licence_request(&p.request, Some(&check), p.approval.as_ref(), now, today).await.unwrap();
    let third = third.expect("a new live renewal");
    assert_eq!(third.status, RequestStatus::Approved);
    let renewals = store.licence_requests(licence.id, 10).await.unwrap();
    assert_eq!(renewals.len(), 3);

    // Once the fees fall due (2026-12-01): the live renewal's fee is a debt
    // (except when it is the one being paid); the cancelled one's is nobody's.
    let later = app::store::PaidUpCheck { today: crate::common::today() + chrono::Duration::days(24), ..check };
    let debts = store.licence_debts(&later, licence.id, 2026, &[]).await.unwrap();
    assert_eq!(debts.len(), 1, "{debts:?}");
    assert_eq!(
        (debts[0].charge.account.as_str(), debts[0].charge.concept.as_str()),
        (third.number.as_str(), "refrendo_alcoholes")
    );
    let paying = store.licence_debts(&later, licence.id, 2026, &[third.account_id.unwrap()]).await.unwrap();
    assert!(paying.is_empty(), "{paying:?}");
    // Next year, this year's renewal unpaid is an earlier renewal to pay first.
    let next_year = store.licence_debts(&later, licence.id, 2027, &[]).await.unwrap();
    assert!(next_year.iter().all(|d| d.earlier_renewal) && next_year.len() == 1, "{next_year:?}");
}

#[tokio::test]
async fn one_live_renewal_per_licence_and_year_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("licences.db").display())).await.unwrap();
    one_live_renewal_per_licence_and_year(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_live_renewal_per_licence_and_year_on_postgres() {
    crate::store_story::on_fresh_postgres("licences", |url| async move {
        let store = Store::connect(&url).await.unwrap();
        one_live_renewal_per_licence_and_year(store.clone()).await;
        store.close().await;
    })
    .await;
}
