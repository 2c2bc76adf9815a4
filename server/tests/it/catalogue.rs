//! The public trámites catalogue (`/tramites`, `/tramites/{slug}`), as a
//! browser without JavaScript gets it: the search, the six procedures of
//! Loreto's Dirección de Ingresos, their tariffs with worked examples at the
//! UMA of the test's today (2026-11-21: $117.31, in force from 2026-02-01)
//! and the calculator. Every fee below is worked out by hand.

use crate::common::{spawn_app, TestApp};

const SLUGS: [&str; 6] = ["espectaculos", "anuncios", "via-publica", "alcoholes", "basura", "licencia-comercial"];

/// A page's status and HTML, without the empty comments (`<!>`) Leptos
/// puts between adjacent text nodes (a browser shows nothing of them).
async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let (status, html) = crate::common::page(app, path).await;
    (status, html.replace("<!>", ""))
}

/// The slugs of the procedures a list page shows, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("data-slug=\"").skip(1).map(|rest| rest.split('"').next().unwrap().to_string()).collect()
}

/// The HTML of the element whose `data-testid` (and, if given, one more
/// attribute) opens it, up to the end of its first `</tag>`.
fn element<'a>(html: &'a str, opening: &str, close: &str) -> &'a str {
    let start = html.find(opening).unwrap_or_else(|| panic!("{opening} in {html}"));
    let len = html[start..].find(close).unwrap_or_else(|| panic!("{close} after {opening}"));
    &html[start..start + len]
}

fn tariff_row<'a>(html: &'a str, code: &str) -> &'a str {
    element(html, &format!("data-tariff=\"{code}\""), "</tr>")
}

async fn search(app: &TestApp, q: &str) -> (u16, String) {
    let encoded: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    page(app, &format!("/tramites?q={encoded}")).await
}

#[tokio::test]
async fn the_list_shows_every_procedure_with_how_it_is_done() {
    let app = spawn_app().await;
    let (status, html) = page(&app, "/tramites").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(listed(&html), SLUGS);
    assert!(html.contains("<h1>Catálogo de trámites</h1>"));
    assert!(html.contains(r#"<form method="get" action="/tramites" role="search""#), "a real GET form");
    assert!(html.contains(r#"<label for="q">Buscar un trámite</label>"#), "a labelled search box");
    assert!(html.contains(r#"maxlength="100""#));
    for slug in SLUGS {
        assert!(html.contains(&format!(r#"href="/tramites/{slug}""#)), "{slug} links to its page");
    }
    let badges: Vec<&str> = html
        .split(r#"data-testid="procedure-badge""#)
        .skip(1)
        .map(|r| {
            let text = &r[r.find('>').unwrap() + 1..];
            &text[..text.find('<').unwrap()]
        })
        .collect();
    assert_eq!(badges, ["En línea", "En línea", "En línea", "En línea", "En ventanilla", "En ventanilla"]);
    assert!(html.contains("Licencia o permiso para colocar, en forma permanente o eventual"), "a summary of each");
    assert!(!html.contains("data-testid=\"catalogue-count\""), "no query, no count");
}

#[tokio::test]
async fn search_finds_by_name_keyword_and_tariff_without_accents_or_case() {
    let app = spawn_app().await;
    // "Vía pública" names the procedure; basura's fine for dumping rubbish
    // "en terrenos baldíos y vía pública" names it too.
    for (q, expected) in [
        ("via publica", &["via-publica", "basura"][..]),
        ("taxi", &["via-publica"][..]),
        ("cantina", &["alcoholes"][..]),
        // A bar "con pista de baile y/o espectáculos" is an alcohol tariff.
        ("ESPECTÁCULOS", &["espectaculos", "alcoholes"][..]),
        ("  publicidad  ", &["anuncios"][..]),
    ] {
        let (status, html) = search(&app, q).await;
        assert_eq!(status, 200, "{q}");
        assert_eq!(listed(&html), expected, "{q}");
        let count = element(&html, r#"data-testid="catalogue-count""#, "</p>");
        assert!(count.contains(&format!(">{} trámite", expected.len())), "{q}: {count}");
        assert!(count.contains(&format!("<q>{}</q>", q.trim())), "{q}: the query is repeated: {count}");
    }
    let (_, one) = search(&app, "taxi").await;
    assert!(one.contains("trámite coincide con"));
    let (_, two) = search(&app, "cantina espectaculos").await;
    assert_eq!(listed(&two), ["alcoholes"], "every word must match");
}

#[tokio::test]
async fn a_search_that_finds_nothing_says_so_and_leads_back_to_the_list() {
    let app = spawn_app().await;
    let (status, html) = search(&app, "submarino").await;
    assert_eq!(status, 200);
    assert!(listed(&html).is_empty());
    let sentence = element(&html, r#"data-testid="catalogue-no-results""#, "</p>");
    assert!(sentence.contains("Ningún trámite coincide con") && sentence.contains("<q>submarino</q>"), "{sentence}");
    assert!(sentence.contains(r#"<a href="/tramites" data-testid="catalogue-all">Ver todos los trámites</a>"#));
    assert!(html.contains(r#"value="submarino""#), "the box keeps the query");
}

#[tokio::test]
async fn a_query_is_escaped_and_cut() {
    let app = spawn_app().await;
    let (status, html) = search(&app, r#"<script>alert("x")</script>"#).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert"), "never echoed unescaped: {html}");
    assert!(html.contains("&lt;script&gt;alert"), "shown escaped in the sentence");
    assert!(html.contains(r#"value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;""#), "escaped in the box");
    let title = element(&html, "<title>", "</title>");
    assert!(!title.contains("script"), "the query never goes in the title: {title}");

    let (status, html) = search(&app, &"a".repeat(300)).await;
    assert_eq!(status, 200);
    // At most 100 characters are read (the language switch keeps the whole
    // address, percent-encoded, to come back to it).
    assert!(html.contains(&format!("value=\"{}\"", "a".repeat(100))), "{html}");
    assert!(html.contains(&format!("<q>{}</q>", "a".repeat(100))));
}

#[tokio::test]
async fn every_procedure_page_has_its_sections() {
    let app = spawn_app().await;
    for slug in SLUGS {
        let (status, html) = page(&app, &format!("/tramites/{slug}")).await;
        assert_eq!(status, 200, "{slug}: {html}");
        for section in [
            "section-what",
            "section-who",
            "section-requirements",
            "section-cost",
            "section-hours",
            "section-response",
            "section-online",
        ] {
            assert!(html.contains(&format!(r#"data-testid="{section}""#)), "{slug}: {section}");
        }
        for heading in [
            "¿Qué es?",
            "¿Quién lo necesita?",
            "Requisitos",
            "Costo",
            "Horario de atención",
            "Tiempo de respuesta",
            "¿Se puede hacer en línea?",
        ] {
            assert!(html.contains(&format!(">{heading}</h2>")), "{slug}: {heading}");
        }
        assert_eq!(html.matches("<h1").count(), 1, "{slug}: one h1");
        assert!(html.contains("Lunes a viernes de 8:00 a 15:00 h"), "{slug}: the municipality's office hours");
        assert!(html.contains(r#"href="/tramites" data-testid="back-to-catalogue""#), "{slug}");
        let has_form = html.contains(r#"data-testid="section-form""#);
        assert_eq!(has_form, ["espectaculos", "alcoholes"].contains(&slug), "{slug}: the form only when set");
        let online = html.contains(r#"data-testid="online-yes""#);
        assert_eq!(online, !["basura", "licencia-comercial"].contains(&slug), "{slug}");
    }
    let (_, html) = page(&app, "/tramites/espectaculos").await;
    assert!(html.contains("Formato de la Coordinación de Espectáculos Públicos, solicitado a la Secretaría General."));
    assert!(html.contains("Permiso expedido por la Secretaría General"), "its one document");
    let (_, html) = page(&app, "/tramites/basura").await;
    assert!(html.contains("No. Este trámite se realiza en ventanilla"));
}

#[tokio::test]
async fn the_anuncios_page_shows_each_rate_and_a_live_example_at_todays_uma() {
    let app = spawn_app().await;
    let (_, html) = page(&app, "/tramites/anuncios").await;
    let uma = element(&html, r#"data-testid="uma-in-force""#, "</p>");
    assert!(uma.contains("$117.31 diarios, desde el 01/02/2026"), "{uma}");
    let law = element(&html, r#"data-testid="tariff-law""#, "</p>");
    assert!(law.contains("01/01/2026") && law.contains("Ley de Hacienda para el Municipio de Loreto"), "{law}");
    for caption in
        ["Anuncios permanentes (anual)", "Anuncios eventuales (plazo no mayor de 30 días)", "Anuncios inflables"]
    {
        assert!(html.contains(&format!("<caption>{caption}</caption>")), "{caption}");
    }

    let spectacular = tariff_row(&html, "ANU-I-E");
    assert!(spectacular.contains("Anuncios espectaculares"));
    assert!(spectacular.contains("4 UMA por m² o fracción, al año"), "{spectacular}");
    // 2.5 m² are charged as 3: 4 × 3 × 117.31 = 1,407.72
    assert!(spectacular.contains("2.5 m² (se cobra como 3) → 4 × 3 × $117.31 = $1,407.72"), "{spectacular}");
    assert!(spectacular.contains(r#"data-label="Fundamento legal""#));

    // An inflatable is counted: 7 × 1 × 117.31 = 821.17
    assert!(tariff_row(&html, "ANU-V-A").contains("1 unidad → 7 × 1 × $117.31 = $821.17"));
    // A month of a board: 1 × 1 × 117.31
    assert!(tariff_row(&html, "ANU-III").contains("1 mes → 1 × 1 × $117.31 = $117.31"));
    // Promotions: staff set 3 to 17 UMA: 351.93 to 1,994.27
    let promotions = tariff_row(&html, "ANU-IV");
    assert!(promotions.contains("De 3 a 17 UMA por cada uno (lo fija el personal)"), "{promotions}");
    assert!(promotions.contains("De $351.93 a $1,994.27 por cada uno"), "{promotions}");
    assert!(promotions.contains("Plazo máximo: 5 días."), "its rules");
    assert!(tariff_row(&html, "ANU-II-B").contains("Plazo máximo: 30 días."));
}

#[tokio::test]
async fn the_alcoholes_page_refuses_what_the_law_refuses_and_splits_the_documents() {
    let app = spawn_app().await;
    let (_, html) = page(&app, "/tramites/alcoholes").await;
    let agencia = tariff_row(&html, "ALC-HEX-AGENCIA");
    assert!(agencia.contains("No se autoriza"), "{agencia}");
    assert!(agencia.contains("La ley no autoriza horas extras a este giro"), "why, in its rules");
    assert!(!agencia.contains('$'), "no amount for a refusal");
    // A cantina's licence: 1000 × 117.31 = 117,310.00; its extra hour 2 × 117.31
    assert!(tariff_row(&html, "ALC-EXP-CANTINA").contains("1 unidad → 1000 × 1 × $117.31 = $117,310.00"));
    assert!(tariff_row(&html, "ALC-HEX-CANTINA").contains("1 hora → 2 × 1 × $117.31 = $234.62"));

    assert!(html.contains("<h3>Solo trámite nuevo</h3>") && html.contains("<h3>Solo refrendo</h3>"));
    let new = element(&html, r#"data-testid="docs-new""#, "</ul>");
    assert_eq!(new.matches("<li").count(), 9, "{new}");
    assert!(new.contains("Carta de no antecedentes penales"));
    assert!(
        new.contains("Copia simple del acta constitutiva (persona moral) <em class=\"optional\">(si aplica)</em>"),
        "{new}"
    );
    let renewal = element(&html, r#"data-testid="docs-renewal""#, "</p>");
    assert!(renewal.contains("Ninguno."), "a renewal asks for none of them: {renewal}");
    assert!(!html.contains(r#"data-testid="docs-always""#), "no document is asked for always");
    assert!(html.contains("tarda de 5 a 10 días hábiles"), "its response time");
}

#[tokio::test]
async fn the_other_pages_show_their_rates_and_notes() {
    let app = spawn_app().await;
    let (_, html) = page(&app, "/tramites/licencia-comercial").await;
    let note = element(&html, r#"data-testid="cost-note""#, "</p>");
    assert!(note.contains("El costo depende del giro y lo determina la Dirección de Ingresos"), "{note}");
    assert!(!html.contains(r#"data-testid="tariff-table""#) && !html.contains(r#"data-testid="calculator""#));
    let documents = element(&html, r#"data-testid="docs-always""#, "</ul>");
    assert_eq!(documents.matches("<li").count(), 9);
    assert_eq!(documents.matches("(si aplica)").count(), 2, "the company's papers");
    assert!(html.contains(r#"<span data-testid="procedure-badge" class="badge">En ventanilla</span>"#));
    let (status, ignored) = page(&app, "/tramites/licencia-comercial?tarifa=ANU-I-E&cantidad=1").await;
    assert_eq!(status, 200, "no calculator here, so nothing to refuse");
    assert!(!ignored.contains(r#"data-testid="error-summary""#) && !ignored.contains(r#"data-testid="calc-result""#));

    let (_, html) = page(&app, "/tramites/espectaculos").await;
    let tickets = tariff_row(&html, "ESP-BOLETAJE");
    assert!(tickets.contains("10 % del boletaje vendido"), "{tickets}");
    assert!(tickets.contains("Boletaje de $10,000.00 → 10 % × $10,000.00 = $1,000.00"), "{tickets}");
    let eventual = tariff_row(&html, "ESP-EVENTUAL");
    assert!(eventual.contains("10 UMA por día de evento"));
    assert!(eventual.contains("1 día de evento → 10 × 1 × $117.31 = $1,173.10"), "{eventual}");

    let (_, html) = page(&app, "/tramites/via-publica").await;
    // 2.5 linear metres of a taxi stand charged as 3: 3 × 3 × 117.31 = 1,055.79
    assert!(
        tariff_row(&html, "VP-TAXI").contains("2.5 metros lineales (se cobra como 3) → 3 × 3 × $117.31 = $1,055.79")
    );
    // 0.10 × 1 × 117.31 = 11.731 → 11.73
    assert!(tariff_row(&html, "VP-SONIDO").contains("1 día → 0.1 × 1 × $117.31 = $11.73"));
    assert!(tariff_row(&html, "VP-SEMIFIJO").contains("Superficie máxima: 10 m²."));

    let (_, html) = page(&app, "/tramites/basura").await;
    // Fines set by staff from 50 to 100 UMA: 5,865.50 to 11,731.00
    assert!(tariff_row(&html, "BAS-K").contains("De $5,865.50 a $11,731.00 por cada uno (lo fija el personal)"));
}

#[tokio::test]
async fn an_unknown_procedure_is_the_sites_404() {
    let app = spawn_app().await;
    for path in ["/tramites/no-existe", "/tramites/ANUNCIOS", "/tramites/%3Cscript%3E"] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("<h1>Página no encontrada</h1>"), "{path}: {html}");
        assert!(!html.contains("<script>"), "{path}");
    }
}

#[tokio::test]
async fn the_calculator_answers_on_the_server() {
    let app = spawn_app().await;
    let (status, html) = page(&app, "/tramites/anuncios?tarifa=ANU-I-E&cantidad=12.3").await;
    assert_eq!(status, 200, "{html}");
    let result = &html[html.find(r#"data-testid="calc-result""#).unwrap()..];
    let result = &result[..result.find("</form>").unwrap()];
    assert!(result.contains(r#"data-testid="calc-uma">$117.31 diarios, desde el 01/02/2026<"#), "{result}");
    assert!(result.contains(r#"data-testid="calc-factor">4 UMA<"#));
    assert!(result.contains(r#"data-testid="calc-given">12.3 m²<"#));
    assert!(result.contains(r#"data-testid="calc-charged">13 m²<"#));
    // 4 × 13 × 117.31 = 6,100.12
    assert!(result.contains(r#"data-testid="calc-fee">$6,100.12<"#));
    assert!(result.contains("4 × 13 × $117.31 = $6,100.12"));
    assert!(html.contains(r#"<option value="ANU-I-E" selected"#), "the choice is kept");
    assert!(html.contains(r#"value="12.3""#));
    assert!(html.contains(r#"<label for="cantidad">Metros cuadrados</label>"#), "labelled by the unit");
    assert!(html.contains(r#"action="/tramites/anuncios#calculadora""#) && html.contains(r#"method="get""#));
    assert!(!html.contains(r#"<option value="ANU-IV""#), "amounts staff set are not offered");
    assert!(!html.contains(r#"data-testid="error-summary""#));

    // Ticket sales, as printed on a receipt: 10 % of 12,345.67 = 1,234.567 → 1,234.57
    let (status, html) = page(&app, "/tramites/espectaculos?tarifa=ESP-BOLETAJE&cantidad=%2412%2C345.67").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-testid="calc-fee">$1,234.57<"#), "{html}");
    assert!(html.contains("10 % × $12,345.67 = $1,234.57"));
    assert!(!html.contains(r#"data-testid="calc-uma""#), "a percentage needs no UMA");
}

#[tokio::test]
async fn bad_calculator_input_gets_a_spanish_error_summary_never_a_500() {
    let app = spawn_app().await;
    let (status, html) = page(&app, "/tramites/anuncios?tarifa=ANU-I-E&cantidad=abc").await;
    assert_eq!(status, 400);
    let summary = element(&html, r#"data-testid="error-summary""#, "</div>");
    assert!(summary.contains("Hay un problema con su cálculo"), "{summary}");
    assert!(summary.contains(r##"href="#cantidad""##) && summary.contains("Escriba la cantidad solo con dígitos"));
    let input = element(&html, r#"<input id="cantidad""#, ">");
    assert!(input.contains(r#"aria-invalid="true""#) && input.contains("cantidad-error"), "{input}");
    assert!(html.contains(r#"value="abc""#), "what was typed stays to be corrected");
    assert!(!html.contains(r#"data-testid="calc-result""#));

    let (status, html) = page(&app, "/tramites/anuncios?tarifa=NOPE&cantidad=1").await;
    assert_eq!(status, 400);
    let summary = element(&html, r#"data-testid="error-summary""#, "</div>");
    assert!(summary.contains("No existe la tarifa NOPE") && summary.contains(r##"href="#tarifa""##), "{summary}");
    assert!(element(&html, r#"<select id="tarifa""#, ">").contains(r#"aria-invalid="true""#));

    // A tariff of another procedure is not this page's.
    let (status, _) = page(&app, "/tramites/anuncios?tarifa=VP-TAXI&cantidad=1").await;
    assert_eq!(status, 400);
    // What the rule refuses: a fraction of an inflatable, nothing, a refusal.
    let (status, html) = page(&app, "/tramites/anuncios?tarifa=ANU-V-A&cantidad=1.5").await;
    assert_eq!(status, 400);
    assert!(html.contains("La cantidad debe ser un número entero"));
    let (status, html) = page(&app, "/tramites/anuncios?tarifa=ANU-I-E&cantidad=0").await;
    assert_eq!(status, 400);
    assert!(html.contains("La cantidad debe ser mayor que cero."));
    let (status, html) = page(&app, "/tramites/alcoholes?tarifa=ALC-HEX-AGENCIA&cantidad=1").await;
    assert_eq!(status, 422);
    assert!(html.contains("No se autoriza: La ley no autoriza horas extras"));
    let (status, html) = page(&app, "/tramites/anuncios?tarifa=ANU-IV&cantidad=1").await;
    assert_eq!(status, 422, "staff set this amount");
    assert!(html.contains("lo fija el personal de la Dirección de Ingresos entre 3 y 17 UMA"));

    for path in [
        "/tramites/anuncios?tarifa=ANU-I-E",
        "/tramites/anuncios?cantidad=3",
        "/tramites/anuncios?tarifa=ANU-I-E&cantidad=-1",
        "/tramites/anuncios?tarifa=ANU-I-E&cantidad=99999999999999999999999999999",
        "/tramites/anuncios?tarifa=ANU-I-E&cantidad=1e3",
        "/tramites/anuncios?tarifa=ANU-I-E&cantidad=1.2.3",
        "/tramites/anuncios?tarifa=ANU-I-E&cantidad=9999999",
        "/tramites/espectaculos?tarifa=ESP-BOLETAJE&cantidad=1%2C2",
        "/tramites/anuncios?tarifa=ANU-I-E&tarifa=NOPE&cantidad=%00",
    ] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, 400, "{path}: {html}");
        assert!(html.contains(r#"data-testid="error-summary""#), "{path}");
    }

    let (status, html) = page(&app, "/tramites/anuncios?tarifa=%3Cscript%3Ealert(1)%3C%2Fscript%3E&cantidad=1").await;
    assert_eq!(status, 400);
    assert!(!html.contains("<script>alert"), "escaped: {html}");
    assert!(html.contains("&lt;script&gt;alert(1)"), "{html}");
    assert!(!element(&html, "<title>", "</title>").contains("script"));
}

#[tokio::test]
async fn the_catalogue_speaks_english_around_spanish_content() {
    let app = spawn_app().await;
    let (status, html) = page(&app, "/tramites?lang=en").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Procedures (trámites)</h1>") && html.contains("Search for a procedure"));
    assert!(html.contains(">Online<") && html.contains(">At the office<"));
    assert!(html.contains("Licencias, permisos o autorizaciones por anuncios"), "names stay in Spanish");
    let (status, html) = page(&app, "/tramites/anuncios?lang=en&tarifa=ANU-I-E&cantidad=abc").await;
    assert_eq!(status, 400);
    assert!(html.contains("What is it?") && html.contains("Work out your fee"));
    assert!(html.contains("Type the quantity with digits only"));
    assert!(html.contains("2.5 m² (charged as 3) → 4 × 3 × $117.31 = $1,407.72"));
    assert!(html.contains("$117.31 a day, since 2026-02-01"));
}

#[tokio::test]
async fn the_catalogue_is_linked_and_ships_no_script_of_its_own() {
    let app = spawn_app().await;
    let (_, home) = page(&app, "/").await;
    assert!(home.contains(r#"data-testid="home-catalogue-link" href="/tramites""#));
    assert!(home.contains(r#"<a href="/tramites" data-testid="nav-catalogue">Trámites</a>"#), "in the navigation");
    let scripts = home.matches("<script").count();
    for path in [
        "/tramites",
        "/tramites?q=taxi",
        "/tramites/anuncios",
        "/tramites/anuncios?tarifa=ANU-I-E&cantidad=12.3",
        "/tramites/anuncios?tarifa=ANU-I-E&cantidad=abc",
        "/tramites/alcoholes",
    ] {
        let (_, html) = page(&app, path).await;
        assert_eq!(html.matches("<script").count(), scripts, "{path}: only what every page has");
        assert!(!html.contains("<leptos-island"), "{path}: no island");
        assert!(html.contains(r#"<a href="/tramites" data-testid="nav-catalogue">"#), "{path}");
    }
}
