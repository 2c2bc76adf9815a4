//! Permit requests through their pages, as a browser without JavaScript
//! sends them: a citizen files an advertising permit with a PDF, a revisor
//! asks for a correction, the citizen corrects, the revisor approves, the
//! citizen pays and gets the permit; the refusals on the way (a disguised
//! upload, the wrong proof, someone else's role) change nothing.

use app::domain::permits::RequestStatus;
use app::domain::staff::Role;

use crate::common::{location, pay_as_stripe, spawn_app, TestApp};
use crate::staff::{get_as, page_token, post_as, session, staff};

pub(crate) const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A browser: its cookies, kept by hand (the test client keeps none).
/// Shared by the permit and licence tests.
pub(crate) struct Browser {
    cookies: Vec<String>,
}

impl Browser {
    pub(crate) fn new() -> Browser {
        Browser { cookies: vec![] }
    }

    /// A browser whose visitor chose English (the language cookie that
    /// `/idioma?lang=en` sets).
    pub(crate) fn english(app: &TestApp) -> Browser {
        Browser { cookies: vec![format!("{}=en", app.state.cookies.name(app::i18n::LANG_COOKIE))] }
    }

    pub(crate) fn header(&self) -> String {
        self.cookies.join("; ")
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap().to_string();
            let name = pair.split('=').next().unwrap().to_string();
            self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            self.cookies.push(pair);
        }
    }

    pub(crate) async fn get(&mut self, app: &TestApp, path: &str) -> (u16, String) {
        let r = self.download(app, path).await;
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// GETs `path` with this browser's cookies and hands back the whole
    /// response (headers and bytes: a PDF, an uploaded document).
    pub(crate) async fn download(&mut self, app: &TestApp, path: &str) -> reqwest::Response {
        let mut request = app.client.get(format!("{}{}", app.base, path));
        if !self.cookies.is_empty() {
            request = request.header("cookie", self.header());
        }
        let r = request.send().await.unwrap();
        self.keep(&r);
        r
    }

    /// POSTs `fields` as a form (each name and value encoded).
    pub(crate) async fn post(&mut self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body: Vec<String> =
            fields.iter().map(|(k, v)| format!("{}={}", crate::common::encode(k), crate::common::encode(v))).collect();
        self.post_form(app, path, &body.join("&")).await
    }

    pub(crate) async fn post_owned(
        &mut self,
        app: &TestApp,
        path: &str,
        fields: &[(String, String)],
    ) -> reqwest::Response {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.post(app, path, &refs).await
    }

    pub(crate) async fn post_form(&mut self, app: &TestApp, path: &str, body: &str) -> reqwest::Response {
        let r = app
            .client
            .post(format!("{}{}", app.base, path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", self.header())
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }

    pub(crate) async fn post_multipart(
        &mut self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> reqwest::Response {
        let boundary = "----recauda-solicitud-4b2e";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, file_name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                     Content-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let r = app
            .client
            .post(format!("{}{}", app.base, path))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .header("cookie", self.header())
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }
}

pub(crate) fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).expect("a form with its token").split('"').next().unwrap().to_string()
}

/// Every `id="…"` of a page, in order.
fn ids_of(html: &str) -> Vec<&str> {
    html.split(" id=\"").skip(1).map(|s| s.split('"').next().unwrap()).collect()
}

/// The values of attribute `name` (` for="…"`, ` aria-describedby="…"`…)
/// of a page, each split at its spaces.
fn references<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    html.split(&format!(" {name}=\"")).skip(1).flat_map(|s| s.split('"').next().unwrap().split_whitespace()).collect()
}

/// No `id` repeats on the page, and every label (`for`), description
/// (`aria-describedby`, `aria-labelledby`) and link within the page
/// (`href="#…"`) points at one of them.
pub(crate) fn assert_ids_unique(html: &str) {
    let ids = ids_of(html);
    let mut seen = std::collections::HashSet::new();
    let repeated: Vec<&str> = ids.iter().copied().filter(|id| !seen.insert(*id)).collect();
    assert!(repeated.is_empty(), "repeated ids {repeated:?}: {html}");
    let mut targets = references(html, "for");
    targets.extend(references(html, "aria-describedby"));
    targets.extend(references(html, "aria-labelledby"));
    targets.extend(references(html, "href").into_iter().filter_map(|h| h.strip_prefix('#')));
    for target in targets {
        assert!(seen.contains(target), "#{target} is no id of the page: {html}");
    }
}

/// The form of a page whose `data-testid` is `testid`, up to its end.
pub(crate) fn form_html<'a>(html: &'a str, testid: &str) -> &'a str {
    let start = html.find(&format!("data-testid=\"{testid}\"")).unwrap_or_else(|| panic!("no {testid}: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</form>").unwrap()]
}

/// The advert request's fields: an eventual advert of 1.5 × 2 m (3 m²)
/// from the day after the test's today, for 15 days.
fn advert<'a>(csrf: &'a str, action: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("tarifa", "ANU-II-A"),
        ("tipo", "nuevo"),
        ("inicio", "2026-11-23"),
        ("fin", "2026-12-07"),
        ("ancho", "1.5"),
        ("alto", "2"),
        ("ubicacion", "Calle Salvatierra 12, Centro, Loreto"),
        ("descripcion", "Manta de la Panadería La Espiga"),
        ("nombre", "Panadería La Espiga"),
        ("correo", "Ana@Ejemplo.MX"),
        ("rfc", ""),
        ("telefono", "613 135 0000"),
        ("accion", action),
    ]
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let statement = format!("SELECT count(*) FROM {table}");
    sqlx::query_scalar(statement.as_str()).fetch_one(app.store.pool()).await.unwrap()
}

#[tokio::test]
async fn an_advert_permit_from_request_to_issued_permit() {
    an_advert_permit(&spawn_app().await).await;
}

/// The same story on PostgreSQL: every statement of permit requests and
/// permits runs on both databases.
#[tokio::test]
async fn an_advert_permit_on_postgres() {
    crate::store_story::on_fresh_postgres("permits", |url| async move {
        an_advert_permit(&crate::common::spawn_app_on_database(&url).await).await;
    })
    .await;
}

async fn an_advert_permit(app: &TestApp) {
    staff(app, "revisora", &[Role::Revisor]).await;
    let mut citizen = Browser::new();

    // From the catalogue's page of the procedure to its form.
    let (status, html) = citizen.get(app, "/tramites/anuncios").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/tramites/anuncios/solicitar\""), "{html}");

    // The form, and its live quote ("Calcular costo"): 1.5 × 2 = 3 m² of
    // ANU-II-A at 1 UMA each, 3 × 117.31 = 351.93.
    let (status, html) = citizen.get(app, "/tramites/anuncios/solicitar").await;
    assert_eq!(status, 200);
    assert!(html.contains("enctype=\"multipart/form-data\""), "a real form");
    assert!(html.contains("data-testid=\"upload-medidas\""), "the checklist comes from the procedure");
    let csrf = csrf_of(&html);
    let r = citizen.post_multipart(app, "/tramites/anuncios/enviar", &advert(&csrf, "cotizar"), &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"quote-total\">$351.93"), "{html}");
    assert_eq!(count(app, "permit_requests").await, 0, "a quote files nothing");

    // An HTML page named like a PDF is refused by its content; nothing filed.
    let disguised: &[u8] = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
    let r = citizen
        .post_multipart(
            app,
            "/tramites/anuncios/enviar",
            &advert(&csrf, "enviar"),
            &[("doc-medidas", "medidas.pdf", disguised)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("no es un PDF, JPEG ni PNG"), "{html}");
    assert_eq!(count(app, "permit_requests").await, 0);
    assert_eq!(count(app, "permit_documents").await, 0);

    // Without the required document: refused, said so.
    let r = citizen.post_multipart(app, "/tramites/anuncios/enviar", &advert(&csrf, "enviar"), &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("Adjunte: Medidas"));

    // Filed with a PDF: its page opens in this browser at once.
    let r = citizen
        .post_multipart(
            app,
            "/tramites/anuncios/enviar",
            &advert(&csrf, "enviar"),
            &[("doc-medidas", "medidas.pdf", PDF)],
        )
        .await;
    let to = location(&r);
    assert!(to.starts_with("/tramites/solicitud/") && to.ends_with("?aviso=enviada"), "{to}");
    let token = to.trim_start_matches("/tramites/solicitud/").trim_end_matches("?aviso=enviada").to_string();
    assert_eq!(token.len(), 32, "the link carries a random token, not the number");
    let page_path = format!("/tramites/solicitud/{token}");
    let (status, html) = citizen.get(app, &page_path).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"request-number\">SOL-2026-000001"), "{html}");
    assert!(html.contains("data-status=\"submitted\""));
    assert!(html.contains("data-testid=\"request-total\">$351.93"));
    assert!(html.contains("3 m²"));

    // Someone else with the link: asked for the proof; a wrong one is refused.
    let mut other = Browser::new();
    let (status, html) = other.get(app, &page_path).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"proof-form\"") && !html.contains("Panadería"), "no data before the proof");
    let csrf_other = csrf_of(&html);
    let r = other
        .post_form(app, &format!("{page_path}/acceso"), &format!("csrf={csrf_other}&prueba=otra%40ejemplo.mx"))
        .await;
    assert_eq!(r.status().as_u16(), 403);
    let (_, html) = other.get(app, &page_path).await;
    assert!(html.contains("data-testid=\"proof-form\""));
    // The document is not served without the proof either.
    let docs = app.store.permit_documents(1).await.unwrap();
    assert_eq!(docs.len(), 1);
    let doc_path = format!("{page_path}/documento?id={}", docs[0].id);
    let r = other.download(app, &doc_path).await;
    assert_eq!(r.status().as_u16(), 403);
    // The applicant's own browser downloads it as an attachment that is never sniffed.
    let r = citizen.download(app, &doc_path).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    // The revisor sees it in the queue with the response time left.
    let revisora = session(app, "revisora").await;
    let queue = get_as(app, "/personal/revision", Some(&revisora)).await.text().await.unwrap();
    assert!(queue.contains("data-number=\"SOL-2026-000001\""), "{queue}");
    assert!(queue.contains("5 de 5 día(s) hábil(es)"), "filed today, nothing used yet: {queue}");
    // Asks for a correction, with a comment on the document.
    let review = format!("/personal/revision/{token}");
    let t = page_token(app, &revisora).await;
    let doc_id = docs[0].id;
    let r = post_as(
        app,
        &format!("{review}/corregir"),
        &revisora,
        &format!("csrf={t}&comentario=Indique+la+altura+sobre+la+banqueta.&doc-{doc_id}=Falta+el+croquis."),
    )
    .await;
    assert_eq!(location(&r), format!("{review}?aviso=correccion"));
    let (_, html) = citizen.get(app, &page_path).await;
    assert!(html.contains("data-status=\"needs_correction\""));
    assert!(html.contains("Indique la altura sobre la banqueta."), "the comment is on the timeline");
    assert!(html.contains(">Por corregir: Falta el croquis.</p>"), "{html}");
    // The citizen corrects: the new PDF replaces the old one for review.
    let csrf = csrf_of(&html);
    let corrected: Vec<u8> = [PDF, b"% con croquis\n"].concat();
    let r = citizen
        .post_multipart(
            app,
            &format!("{page_path}/corregir"),
            &[("csrf", &csrf), ("comentario", "Adjunto el croquis.")],
            &[("doc-medidas", "medidas-con-croquis.pdf", &corrected)],
        )
        .await;
    assert_eq!(location(&r), format!("{page_path}?aviso=corregida"));
    let docs = app.store.permit_documents(1).await.unwrap();
    assert_eq!(docs.iter().filter(|d| !d.replaced).count(), 1);
    assert_eq!(docs.len(), 2, "the first upload is kept");

    // Approved: the fee becomes payable; the charge is on the request's own account.
    let t = page_token(app, &revisora).await;
    let r =
        post_as(app, &format!("{review}/aprobar"), &revisora, &format!("csrf={t}&condiciones=Sin+iluminación.")).await;
    assert_eq!(location(&r), format!("{review}?aviso=aprobada"));
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Approved);
    assert_eq!(request.scope.conditions, "Sin iluminación.");
    let (_, html) = citizen.get(app, &page_path).await;
    assert!(html.contains("data-testid=\"request-pay\""));
    let csrf = csrf_of(&html);

    // Paid through the same orders and receipts as any debt.
    let charge = html.split("name=\"cargo\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = citizen.post_form(app, "/orden", &format!("csrf={csrf}&cuenta=SOL-2026-000001&rfc=&cargo={charge}")).await;
    let order_path = location(&r);
    let order_token = order_path.trim_start_matches("/orden/").to_string();
    pay_as_stripe(app, &order_token).await;

    // The permit is issued with its own folio and signed scope.
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Issued);
    let permit = app.store.permit_of_request(request.id).await.unwrap().expect("a permit");
    assert_eq!(permit.folio.to_string(), "PER-2026-000001");
    assert!(permit.signature.is_some());
    assert_eq!(permit.scope.measure, "3 m²");
    let (_, html) = citizen.get(app, &page_path).await;
    assert!(html.contains("data-testid=\"permit-folio\">PER-2026-000001"), "{html}");
    assert!(html.contains("data-status=\"issued\""));
    let steps: Vec<&str> = html.split("data-action=\"").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    assert_eq!(steps, ["submit", "ask_correction", "resubmit", "approve", "pay", "issue"]);

    // The PDF carries a QR code whose URL checks the permit against its record.
    let r = citizen.download(app, &format!("{page_path}/permiso.pdf")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = lopdf::Document::load_mem(&r.bytes().await.unwrap()).unwrap();
    let text = crate::common::pdf::text(&pdf);
    assert!(text.contains("PER-2026-000001") && text.contains("Sin iluminación."), "{text}");
    let url = crate::common::pdf::qr_in_pdf(&pdf);
    let path = url.split_once("/p/").map(|(_, rest)| format!("/p/{rest}")).expect("a permit URL");
    let r = app.get(&path).await;
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-verdict=\"authentic\""), "{html}");
    assert!(html.contains("23/11/2026 al 07/12/2026") && html.contains("3 m²"));
    assert!(!html.contains("Panadería La Espiga"), "the holder is masked in public");
    // Someone else's QR (another code) does not pass.
    let (folio_part, _) = path.split_once("?s=").unwrap();
    let r = app.get(&format!("{folio_part}?s=00000000.AAAA")).await;
    assert!(r.text().await.unwrap().contains("data-verdict=\"forged\""));

    // The cashier desk verifies the permit and hands it over once.
    staff(app, "cajero", &[Role::Cajero]).await;
    let cajero = session(app, "cajero").await;
    let desk = format!("/personal/caja/verificar?url={}", crate::common::encode(&url));
    let html = get_as(app, &desk, Some(&cajero)).await.text().await.unwrap();
    assert!(
        html.contains("data-verdict=\"authentic\"") && html.contains("data-testid=\"desk-permit-scope\""),
        "{html}"
    );
    let t = page_token(app, &cajero).await;
    let s = url.split("?s=").nth(1).unwrap();
    let body = format!("csrf={t}&tipo=permiso&folio=PER-2026-000001&s={}", crate::common::encode(s));
    let r = post_as(app, "/personal/caja/canjear", &cajero, &body).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("el permiso quedó canjeado"));
    let r = post_as(app, "/personal/caja/canjear", &cajero, &body).await;
    assert_eq!(r.status().as_u16(), 409, "a permit is handed over once");

    // A record whose dates were stretched no longer matches its signature.
    sqlx::query("UPDATE permits SET scope = replace(scope, '2026-12-07', '2026-12-31')")
        .execute(app.store.pool())
        .await
        .unwrap();
    let html = app.get(&path).await.text().await.unwrap();
    assert!(html.contains("data-verdict=\"forged\""), "an altered date fails: {html}");
}

#[tokio::test]
async fn only_revisors_decide_and_a_decided_request_stays_decided() {
    let app = spawn_app().await;
    staff(&app, "revisor", &[Role::Revisor]).await;
    staff(&app, "cajera", &[Role::Cajero]).await;
    staff(&app, "tesorera", &[Role::Tesorero]).await;
    let mut citizen = Browser::new();
    let (_, html) = citizen.get(&app, "/tramites/anuncios/solicitar").await;
    let csrf = csrf_of(&html);
    let r = citizen
        .post_multipart(&app, "/tramites/anuncios/enviar", &advert(&csrf, "enviar"), &[("doc-medidas", "m.pdf", PDF)])
        .await;
    let token = location(&r).trim_start_matches("/tramites/solicitud/").trim_end_matches("?aviso=enviada").to_string();
    let review = format!("/personal/revision/{token}");
    for who in ["cajera", "tesorera"] {
        let cookie = session(&app, who).await;
        let t = page_token(&app, &cookie).await;
        for action in ["tomar", "corregir", "aprobar", "rechazar"] {
            let r =
                post_as(&app, &format!("{review}/{action}"), &cookie, &format!("csrf={t}&motivo=x&comentario=x")).await;
            assert_eq!(r.status().as_u16(), 403, "{who} {action}");
        }
        assert_eq!(get_as(&app, &review, Some(&cookie)).await.status().as_u16(), 403);
    }
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Submitted, "nothing moved");

    // A rejection needs its reason; then the request cannot be approved.
    let cookie = session(&app, "revisor").await;
    let t = page_token(&app, &cookie).await;
    let r = post_as(&app, &format!("{review}/rechazar"), &cookie, &format!("csrf={t}&motivo=")).await;
    assert_eq!(r.status().as_u16(), 422);
    let r =
        post_as(&app, &format!("{review}/rechazar"), &cookie, &format!("csrf={t}&motivo=La+zona+no+admite+anuncios."))
            .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = post_as(&app, &format!("{review}/aprobar"), &cookie, &format!("csrf={t}")).await;
    assert_eq!(r.status().as_u16(), 409);
    let (_, html) = citizen.get(&app, &format!("/tramites/solicitud/{token}")).await;
    assert!(html.contains(">Motivo: La zona no admite anuncios.</p>"), "{html}");
    // Without the form's token nothing moves either (CSRF).
    let r = post_as(&app, &format!("{review}/tomar"), &cookie, "csrf=0").await;
    assert_eq!(r.status().as_u16(), 403);
}

/// Files the advert of [`advert`] with a PDF from a fresh browser: the
/// request's token and the browser.
async fn filed_advert(app: &TestApp) -> (String, Browser) {
    let mut citizen = Browser::new();
    let (_, html) = citizen.get(app, "/tramites/anuncios/solicitar").await;
    let csrf = csrf_of(&html);
    let r = citizen
        .post_multipart(app, "/tramites/anuncios/enviar", &advert(&csrf, "enviar"), &[("doc-medidas", "m.pdf", PDF)])
        .await;
    let token = location(&r).trim_start_matches("/tramites/solicitud/").trim_end_matches("?aviso=enviada").to_string();
    (token, citizen)
}

#[tokio::test]
async fn unpaid_fees_and_unanswered_corrections_expire_and_leave_no_debt() {
    let app = spawn_app().await;
    staff(&app, "revisor", &[Role::Revisor]).await;
    let cookie = session(&app, "revisor").await;
    let (paid_late, _) = filed_advert(&app).await;
    let (silent, _) = filed_advert(&app).await;
    let t = page_token(&app, &cookie).await;
    let r = post_as(&app, &format!("/personal/revision/{paid_late}/aprobar"), &cookie, &format!("csrf={t}")).await;
    assert_eq!(r.status().as_u16(), 303);
    let r = post_as(
        &app,
        &format!("/personal/revision/{silent}/corregir"),
        &cookie,
        &format!("csrf={t}&comentario=Falta+el+croquis."),
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, debts) = app.get_json("/api/v1/debts?account=SOL-2026-000001").await;
    assert_eq!(debts["accounts"][0]["items"].as_array().unwrap().len(), 1, "the fee is owed: {debts}");

    // Nothing is due yet: nothing expires.
    let now = app.state.clock.now();
    assert_eq!(app.store.expire_permit_requests(now, crate::common::today()).await.unwrap(), 0);
    // Past the due date (approval + 10 days) the fee is cancelled with the
    // request; the correction expires once 30 days have gone by.
    let later = crate::common::today() + chrono::Duration::days(11);
    assert_eq!(app.store.expire_permit_requests(now + chrono::Duration::days(11), later).await.unwrap(), 1);
    let late = app.store.permit_request_by_token(&paid_late).await.unwrap().unwrap();
    assert_eq!(late.status, RequestStatus::Expired);
    let (_, debts) = app.get_json("/api/v1/debts?account=SOL-2026-000001").await;
    assert!(debts["accounts"][0]["items"].as_array().unwrap().is_empty(), "no debt left: {debts}");
    assert_eq!(
        app.store.permit_request_by_token(&silent).await.unwrap().unwrap().status,
        RequestStatus::NeedsCorrection
    );
    let much_later = crate::common::today() + chrono::Duration::days(31);
    assert_eq!(app.store.expire_permit_requests(now + chrono::Duration::days(31), much_later).await.unwrap(), 1);
    assert_eq!(app.store.permit_request_by_token(&silent).await.unwrap().unwrap().status, RequestStatus::Expired);
    assert_eq!(app.store.expire_permit_requests(now + chrono::Duration::days(31), much_later).await.unwrap(), 0);
}

#[tokio::test]
async fn the_review_clock_counts_working_days_and_stops_while_the_citizen_corrects() {
    let app = spawn_app().await;
    staff(&app, "revisor", &[Role::Revisor]).await;
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    // Filed on Monday 23 November.
    let monday = app.on_day(day(11, 23)).await;
    let (token, mut citizen) = filed_advert(&monday).await;
    // Corrections asked on Wednesday 25: two working days used (24, 25).
    let wednesday = app.on_day(day(11, 25)).await;
    let cookie = session(&wednesday, "revisor").await;
    let t = page_token(&wednesday, &cookie).await;
    let review = format!("/personal/revision/{token}");
    let r =
        post_as(&wednesday, &format!("{review}/corregir"), &cookie, &format!("csrf={t}&comentario=Falta+el+croquis."))
            .await;
    assert_eq!(r.status().as_u16(), 303);
    // The citizen answers a week later, on Wednesday 2 December: the clock
    // stood still meanwhile.
    let answered = app.on_day(day(12, 2)).await;
    let (_, html) = citizen.get(&answered, &format!("/tramites/solicitud/{token}")).await;
    let csrf = csrf_of(&html);
    let r = citizen
        .post_multipart(
            &answered,
            &format!("/tramites/solicitud/{token}/corregir"),
            &[("csrf", &csrf)],
            &[("doc-medidas", "m2.pdf", PDF)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    // On Friday 4 December: 2 + 2 (3, 4) = 4 of the 5 working days, not 9.
    let friday = app.on_day(day(12, 4)).await;
    let cookie = session(&friday, "revisor").await;
    let queue = get_as(&friday, "/personal/revision", Some(&cookie)).await.text().await.unwrap();
    assert!(queue.contains("1 de 5 día(s) hábil(es)"), "{queue}");
    let html = get_as(&friday, &review, Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("Quedan 1 de 5 días hábiles (se han usado 4)."), "{html}");
    // On Wednesday 9 December it is overdue by two.
    let late = app.on_day(day(12, 9)).await;
    let cookie = session(&late, "revisor").await;
    let queue = get_as(&late, "/personal/revision", Some(&cookie)).await.text().await.unwrap();
    assert!(queue.contains("Vencido por 2 día(s) hábil(es)"), "{queue}");
}

#[tokio::test]
async fn a_range_tariff_gets_its_amount_from_the_revisor_within_the_law() {
    let app = spawn_app().await;
    staff(&app, "revisor", &[Role::Revisor]).await;
    let mut citizen = Browser::new();
    let (_, html) = citizen.get(&app, "/tramites/anuncios/solicitar").await;
    let csrf = csrf_of(&html);
    // A promotion with banners (ANU-IV): 3 to 17 UMA, at most five days.
    let mut fields = advert(&csrf, "cotizar");
    fields.retain(|(k, _)| !["tarifa", "fin", "ancho", "alto"].contains(k));
    fields.extend([("tarifa", "ANU-IV"), ("fin", "2026-11-27"), ("cantidad", "1")]);
    let r = citizen.post_multipart(&app, "/tramites/anuncios/enviar", &fields, &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("data-testid=\"staff-sets\""), "the fee is set at review");
    // Six days is one too many.
    let mut too_long = fields.clone();
    too_long.retain(|(k, _)| *k != "fin");
    too_long.push(("fin", "2026-11-28"));
    let r = citizen.post_multipart(&app, "/tramites/anuncios/enviar", &too_long, &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("dura a lo más 5 días"));
    let mut send = fields.clone();
    send.retain(|(k, _)| *k != "accion");
    send.push(("accion", "enviar"));
    let r = citizen.post_multipart(&app, "/tramites/anuncios/enviar", &send, &[("doc-medidas", "m.pdf", PDF)]).await;
    let token = location(&r).trim_start_matches("/tramites/solicitud/").trim_end_matches("?aviso=enviada").to_string();
    let (_, html) = citizen.get(&app, &format!("/tramites/solicitud/{token}")).await;
    assert!(html.contains("Lo fija la Dirección al revisar"));

    let cookie = session(&app, "revisor").await;
    let review = format!("/personal/revision/{token}");
    let html = get_as(&app, &review, Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"factor-0\""), "the revisor sets it: {html}");
    let t = page_token(&app, &cookie).await;
    for (factor, status) in [("", 422), ("2.99", 422), ("17.01", 422), ("abc", 422)] {
        let r = post_as(&app, &format!("{review}/aprobar"), &cookie, &format!("csrf={t}&factor-0={factor}")).await;
        assert_eq!(r.status().as_u16(), status, "factor {factor:?}");
    }
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Submitted, "nothing changed");
    // 5 UMA × 117.31 = 586.55.
    let r = post_as(&app, &format!("{review}/aprobar"), &cookie, &format!("csrf={t}&factor-0=5")).await;
    assert_eq!(r.status().as_u16(), 303);
    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.fee, Some(app::domain::money::Centavos(58_655)));
    assert_eq!(request.lines[0].staff_factor, Some(rust_decimal::Decimal::from(5)));
}

#[tokio::test]
async fn a_permit_paid_through_the_demonstration_provider_is_a_demonstration_permit() {
    let app = spawn_app().await;
    staff(&app, "revisor", &[Role::Revisor]).await;
    staff(&app, "cajero", &[Role::Cajero]).await;
    let (token, mut citizen) = filed_advert(&app).await;
    let cookie = session(&app, "revisor").await;
    let t = page_token(&app, &cookie).await;
    let r = post_as(&app, &format!("/personal/revision/{token}/aprobar"), &cookie, &format!("csrf={t}")).await;
    assert_eq!(r.status().as_u16(), 303);
    let page_path = format!("/tramites/solicitud/{token}");
    let (_, html) = citizen.get(&app, &page_path).await;
    let csrf = csrf_of(&html);
    let charge = html.split("name=\"cargo\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = citizen.post_form(&app, "/orden", &format!("csrf={csrf}&cuenta=SOL-2026-000001&cargo={charge}")).await;
    let order = location(&r).trim_start_matches("/orden/").to_string();
    let r = citizen.post_form(&app, &format!("/orden/{order}/pagar"), &format!("csrf={csrf}")).await;
    assert_eq!(location(&r), format!("/prueba/pago/{order}"));
    let r =
        citizen.post_form(&app, &format!("/prueba/pago/{order}/accion"), &format!("csrf={csrf}&accion=pagar")).await;
    assert_eq!(r.status().as_u16(), 303, "the demonstration payment is applied");

    let request = app.store.permit_request_by_token(&token).await.unwrap().unwrap();
    assert_eq!(request.status, RequestStatus::Issued);
    let permit = app.store.permit_of_request(request.id).await.unwrap().unwrap();
    assert_eq!(permit.folio.to_string(), "PDEM-2026-000001");
    let url = app::permits::permit_url(&app.state.public_url, &permit).unwrap();
    let path = format!("/p/{}", url.split_once("/p/").unwrap().1);
    let html = app.get(&path).await.text().await.unwrap();
    assert!(html.contains("data-verdict=\"demo\"") && html.contains("sin validez"), "{html}");
    // This portal runs the demonstration provider: its desk hands it over.
    let cajero = session(&app, "cajero").await;
    let t = page_token(&app, &cajero).await;
    let s = url.split("?s=").nth(1).unwrap();
    let body = format!("csrf={t}&tipo=permiso&folio=PDEM-2026-000001&s={}", crate::common::encode(s));
    let r = post_as(&app, "/personal/caja/canjear", &cajero, &body).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("el permiso quedó canjeado"));
}

#[tokio::test]
async fn withdrawing_an_approved_request_leaves_no_debt_unless_it_is_being_paid() {
    let app = spawn_app().await;
    staff(&app, "revisor", &[Role::Revisor]).await;
    let cookie = session(&app, "revisor").await;
    let (token, mut citizen) = filed_advert(&app).await;
    let t = page_token(&app, &cookie).await;
    let r = post_as(&app, &format!("/personal/revision/{token}/aprobar"), &cookie, &format!("csrf={t}")).await;
    assert_eq!(r.status().as_u16(), 303);
    let page_path = format!("/tramites/solicitud/{token}");
    let (_, html) = citizen.get(&app, &page_path).await;
    let csrf = csrf_of(&html);
    // An order of its fee is open: the withdrawal waits for it.
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "SOL-2026-000001" })).await;
    assert_eq!(status, 201, "{order}");
    let r = citizen.post_form(&app, &format!("{page_path}/cancelar"), &format!("csrf={csrf}")).await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.unwrap().contains("Hay un pago en proceso"));
    // Once that order has expired, the request is withdrawn and nothing is owed.
    app.sql("UPDATE payment_orders SET expires_at = '2026-11-20T00:00:00.000000Z'").await;
    assert_eq!(app.store.expire_due_orders(app.state.clock.now()).await.unwrap(), 1);
    let r = citizen.post_form(&app, &format!("{page_path}/cancelar"), &format!("csrf={csrf}")).await;
    assert_eq!(location(&r), format!("{page_path}?aviso=cancelada"));
    assert_eq!(app.store.permit_request_by_token(&token).await.unwrap().unwrap().status, RequestStatus::Cancelled);
    let (_, debts) = app.get_json("/api/v1/debts?account=SOL-2026-000001").await;
    assert!(debts["accounts"][0]["items"].as_array().unwrap().is_empty(), "{debts}");
}

/// An event: its form asks the expected attendance (the procedure's
/// `asks_attendance` in the file), which the request and its permit keep;
/// the fee is the event days at the alcohol rate plus 10 % of the declared
/// ticket sales.
#[tokio::test]
async fn an_event_request_declares_its_attendance_and_its_ticket_sales() {
    let app = spawn_app().await;
    let mut citizen = Browser::new();
    let (status, html) = citizen.get(&app, "/tramites/espectaculos/solicitar").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"field-asistentes\""), "{html}");
    let (_, advert_form) = citizen.get(&app, "/tramites/anuncios/solicitar").await;
    assert!(!advert_form.contains("field-asistentes"), "only events ask for attendance");
    let csrf = csrf_of(&html);
    let event = |attendance: &'static str| {
        vec![
            ("csrf", csrf.as_str()),
            ("tarifa", "ESP-EVENTUAL-ALCOHOL"),
            ("tipo", "nuevo"),
            ("inicio", "2026-12-05"),
            ("fin", "2026-12-06"),
            ("horario", "20:00 a 02:00"),
            ("boletaje", "25000.00"),
            ("asistentes", attendance),
            ("ubicacion", "Explanada del malecón, Loreto"),
            ("descripcion", "Baile popular con grupo norteño"),
            ("nombre", "Eventos del Golfo"),
            ("correo", "eventos@ejemplo.mx"),
            ("accion", "enviar"),
        ]
    };
    let permission = [("doc-permiso-secretaria", "permiso.pdf", PDF)];

    for (attendance, message) in [
        ("", "Escriba cuántas personas espera en el evento."),
        ("muchos", "como un entero de 1 a 200000"),
        ("0", "como un entero de 1 a 200000"),
        ("250001", "como un entero de 1 a 200000"),
    ] {
        let r = citizen.post_multipart(&app, "/tramites/espectaculos/enviar", &event(attendance), &permission).await;
        assert_eq!(r.status().as_u16(), 422, "{attendance:?}");
        let html = r.text().await.unwrap();
        assert!(html.contains(message) && html.contains("href=\"#asistentes\""), "{attendance:?}: {html}");
    }
    assert_eq!(count(&app, "permit_requests").await, 0, "a refused form files nothing");

    let r = citizen.post_multipart(&app, "/tramites/espectaculos/enviar", &event("1,500"), &permission).await;
    let to = location(&r);
    let (status, html) = citizen.get(&app, to.trim_end_matches("?aviso=enviada")).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"scope-attendance\">1500<"), "{html}");
    // 2 event days × 15 UMA × $117.31 = $3,519.30, plus 10 % of $25,000.00
    // of tickets = $2,500.00: $6,019.30.
    assert!(html.contains("data-testid=\"request-total\">$6,019.30"), "{html}");
    let scope: String =
        sqlx::query_scalar("SELECT scope FROM permit_requests").fetch_one(app.store.pool()).await.unwrap();
    assert!(scope.contains("\"attendance\":1500"), "{scope}");
}

/// The citizen's pages follow the language chosen (`?lang=en` or the
/// cookie), their field errors too; the law's wording (tariff and
/// procedure names) stays in Spanish, and so do the revisor's pages and
/// the permit's PDF. Every page's ids are unique.
#[tokio::test]
async fn the_citizen_s_permit_pages_speak_english_and_the_revisor_s_stay_spanish() {
    let app = spawn_app().await;
    staff(&app, "revisora", &[Role::Revisor]).await;

    // The form: Spanish unless English is asked for.
    let (_, es) = Browser::new().get(&app, "/tramites/anuncios/solicitar").await;
    assert!(es.contains("<html lang=\"es-MX\">") && es.contains(">Enviar solicitud<"), "{es}");
    assert!(!es.contains("Send request"));
    assert_ids_unique(&es);
    let (status, en) = Browser::new().get(&app, "/tramites/anuncios/solicitar?lang=en").await;
    assert_eq!(status, 200);
    assert!(en.contains("<html lang=\"en\">"), "{en}");
    assert!(en.contains(">Send request<") && en.contains(">Work out the fee<") && en.contains(">Applicant<"), "{en}");
    assert!(en.contains(" — 1 UMA per m² or fraction<"), "the rates read in English: {en}");
    assert!(en.contains("Anuncios eventuales adosados no luminosos"), "tariff names stay in Spanish");
    assert!(!en.contains("Enviar solicitud") && !en.contains("Revise lo siguiente"));
    assert_ids_unique(&en);

    // The language cookie: a refused form says what is wrong in English,
    // each problem linked to its field.
    let mut citizen = Browser::english(&app);
    let (_, html) = citizen.get(&app, "/tramites/anuncios/solicitar").await;
    assert!(html.contains("<html lang=\"en\">"));
    let csrf = csrf_of(&html);
    let mut bad = advert(&csrf, "enviar");
    bad.retain(|(k, _)| *k != "correo");
    bad.push(("correo", "ana-en-ejemplo.mx"));
    let disguised: &[u8] = b"<html></html>";
    let r = citizen
        .post_multipart(&app, "/tramites/anuncios/enviar", &bad, &[("doc-medidas", "medidas.pdf", disguised)])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains(">Please check the following<"), "{html}");
    assert!(
        html.contains("<a href=\"#correo\">Type a valid e-mail address, for example name@example.com.</a>"),
        "{html}"
    );
    assert!(html.contains("The file “medidas.pdf” is not a PDF, JPEG or PNG"), "{html}");
    assert!(!html.contains("Escriba un correo") && !html.contains("no es un PDF"));
    assert_ids_unique(&html);
    // The same mistake without the cookie: in Spanish, as before.
    let mut spanish = Browser::new();
    let (_, html) = spanish.get(&app, "/tramites/anuncios/solicitar").await;
    let csrf_es = csrf_of(&html);
    let mut bad_es = advert(&csrf_es, "enviar");
    bad_es.retain(|(k, _)| *k != "correo");
    bad_es.push(("correo", "ana-en-ejemplo.mx"));
    let html = spanish.post_multipart(&app, "/tramites/anuncios/enviar", &bad_es, &[]).await.text().await.unwrap();
    assert!(html.contains("<html lang=\"es-MX\">") && html.contains(">Revise lo siguiente<"), "{html}");
    assert!(
        html.contains("<a href=\"#correo\">Escriba un correo electrónico válido, por ejemplo nombre@ejemplo.mx.</a>")
    );
    assert!(html.contains("Adjunte: Medidas") && !html.contains("Type a valid"));

    // The quote, in English: 1.5 × 2 = 3 m² at 1 UMA.
    let r = citizen.post_multipart(&app, "/tramites/anuncios/enviar", &advert(&csrf, "cotizar"), &[]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains(">Fee worked out<"), "{html}");
    assert!(html.contains("1 UMA × 3 × $117.31 (UMA since 2026-02-01)"), "{html}");

    // Filed: its page in English.
    let r = citizen
        .post_multipart(&app, "/tramites/anuncios/enviar", &advert(&csrf, "enviar"), &[("doc-medidas", "m.pdf", PDF)])
        .await;
    let to = location(&r);
    let page_path = to.trim_end_matches("?aviso=enviada").to_string();
    let token = page_path.trim_start_matches("/tramites/solicitud/").to_string();
    let (status, html) = citizen.get(&app, &to).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("Request sent. Keep this page's link"), "the notice: {html}");
    assert!(html.contains("data-status=\"submitted\"") && html.contains(">Submitted</span>"), "{html}");
    assert!(html.contains("We received your request."));
    assert!(html.contains(">Valid</dt>") && html.contains("2026-11-23 to 2026-12-07"), "{html}");
    assert!(html.contains(">History<") && html.contains(">Request sent<") && html.contains("Cancel the request"));
    assert_ids_unique(&html);

    // Someone else with the link, in English: the proof, and its refusal.
    let mut other = Browser::english(&app);
    let (_, html) = other.get(&app, &page_path).await;
    assert!(html.contains("<html lang=\"en\">") && html.contains(">Open your request<"), "{html}");
    assert_ids_unique(&html);
    let r = other
        .post_form(&app, &format!("{page_path}/acceso"), &format!("csrf={}&prueba=otra%40ejemplo.mx", csrf_of(&html)))
        .await;
    assert_eq!(r.status().as_u16(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("That e-mail or RFC is not this request's."), "{html}");

    // The revisor's pages stay in Spanish even in an English browser.
    let revisora = session(&app, "revisora").await;
    let english_staff = format!("{revisora}; {}=en", app.state.cookies.name(app::i18n::LANG_COOKIE));
    let review = format!("/personal/revision/{token}");
    let html = get_as(&app, &review, Some(&english_staff)).await.text().await.unwrap();
    assert!(html.contains("<html lang=\"es-MX\">") && html.contains(">Pedir corrección<"), "{html}");
    assert!(html.contains(">Enviada</span>") && !html.contains(">Submitted<"), "{html}");
    let queue = get_as(&app, "/personal/revision", Some(&english_staff)).await.text().await.unwrap();
    assert!(queue.contains("<html lang=\"es-MX\">") && queue.contains("Revisión de solicitudes"), "{queue}");

    // A correction asked: explained, with its form, in English.
    let t = page_token(&app, &revisora).await;
    let doc = app.store.permit_documents(1).await.unwrap()[0].id;
    let body = format!("csrf={t}&comentario=Falta+el+croquis.&doc-{doc}=No+se+lee.");
    assert_eq!(post_as(&app, &format!("{review}/corregir"), &revisora, &body).await.status().as_u16(), 303);
    let (_, html) = citizen.get(&app, &page_path).await;
    assert!(html.contains(">Needs correction</span>"), "{html}");
    assert!(html.contains(">Correct and send again<") && html.contains(">To correct: No se lee.</p>"), "{html}");
    assert!(html.contains(">Correction requested<"));
    assert_ids_unique(&html);
    let r = citizen
        .post_multipart(
            &app,
            &format!("{page_path}/corregir"),
            &[("csrf", &csrf_of(&html))],
            &[("doc-medidas", "m2.pdf", PDF)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // Approved: the button to pay.
    let t = page_token(&app, &revisora).await;
    assert_eq!(
        post_as(&app, &format!("{review}/aprobar"), &revisora, &format!("csrf={t}")).await.status().as_u16(),
        303
    );
    let (_, html) = citizen.get(&app, &page_path).await;
    assert!(html.contains(">Approved – awaiting payment</span>") && html.contains(">Pay the fee<"), "{html}");
    assert_ids_unique(&html);

    // Paid and issued: the permit, whose PDF is the official Spanish document.
    let charge = html.split("name=\"cargo\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let body = format!("csrf={}&cuenta=SOL-2026-000001&rfc=&cargo={charge}", csrf_of(&html));
    let r = citizen.post_form(&app, "/orden", &body).await;
    pay_as_stripe(&app, location(&r).trim_start_matches("/orden/")).await;
    let (_, html) = citizen.get(&app, &page_path).await;
    assert!(html.contains(">Issued</span>") && html.contains(">Permit issued<"), "{html}");
    assert!(html.contains("Download the permit (PDF, in Spanish)"), "{html}");
    assert_ids_unique(&html);
    let r = citizen.download(&app, &format!("{page_path}/permiso.pdf")).await;
    let pdf = lopdf::Document::load_mem(&r.bytes().await.unwrap()).unwrap();
    let text = crate::common::pdf::text(&pdf);
    assert!(text.contains("Vigencia") && text.contains("Derechos pagados"), "{text}");

    // Its check, for anyone: in English when asked.
    let permit = app.store.permit_of_request(1).await.unwrap().unwrap();
    let url = app::permits::permit_url(&app.state.public_url, &permit).unwrap();
    let path = format!("/p/{}", url.split_once("/p/").unwrap().1);
    let html = app.get(&format!("{path}&lang=en")).await.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains(">✔ Authentic permit<"), "{html}");
    assert!(html.contains("Authentic permit: compare what it says with the printed document."));
    assert!(html.contains("data-testid=\"permit-dates\">2026-11-23 to 2026-12-07<"), "{html}");
    let html = app.get(&path).await.text().await.unwrap();
    assert!(html.contains(">✔ Permiso auténtico<") && html.contains(">23/11/2026 al 07/12/2026<"), "{html}");
    let html = app.get("/p/PER-2026-999999?s=0.A&lang=en").await.text().await.unwrap();
    assert!(html.contains("There is no permit with that folio."), "{html}");
}
