//! The trámites catalogue, rendered on the server (plain HTML and GET
//! forms; no island, no script of its own):
//!
//! * `/tramites?q=…` — the search form and the procedures it finds;
//! * `/tramites/{slug}?tarifa=…&cantidad=…` — one procedure: what it is, who
//!   needs it, the documents (for everyone, only new, only renewal), its
//!   tariffs with a worked example each at today's UMA, office hours,
//!   response time, the form, whether it can be done online, and the
//!   calculator (a GET form answered here, with the full breakdown or an
//!   error summary).
//!
//! Figures come from [`crate::catalogue`], which quotes them with the
//! tariffs' own rule; this module only lays them out.

use leptos::prelude::*;
use leptos_meta::Title;
use rust_decimal::Decimal;

use super::error_page::ErrorSummary;
use super::format;
use super::PageContext;
use crate::catalogue::{self, Example, GroupTariffs, MAX_QUANTITY_CHARS, MAX_QUERY_CHARS};
use crate::domain::procedures::{DocumentWhen, Procedure, RequiredDocument};
use crate::domain::tariffs::{self, Rate, Tariff, TariffQuote, UmaApplied, Unit};
use crate::domain::uma::UmaTable;
use crate::error::AppError;
use crate::i18n::{unit_label, unit_noun, unit_quantity, Lang, Texts};

/// Sets the response's status (the route renders in `SsrMode::Async`, so
/// it is known before the first byte).
fn set_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        use axum::http::StatusCode;
        response.set_status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

// ------------------------------------------------------------------ /tramites

#[component]
pub fn CataloguePage() -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let t = ctx.t();
    let q = catalogue::clean_query(&ctx.param("q").unwrap_or_default());
    let found = catalogue::search(&ctx.municipality, &q, ctx.today);
    let count = found.len();
    let items = found.into_iter().map(|p| procedure_item(p, t)).collect_view();
    // The query is never put in the <title>: leptos_meta writes it unescaped.
    let empty = ctx
        .municipality
        .procedures
        .is_empty()
        .then(|| view! { <p class="lead" data-testid="catalogue-empty">{t.catalogue_empty}</p> });
    let outcome = (!q.is_empty() && empty.is_none()).then(|| {
        let all = view! { <a href="/tramites" data-testid="catalogue-all">{t.catalogue_see_all}</a> };
        if count == 0 {
            view! {
                <p class="lead" data-testid="catalogue-no-results">
                    {t.catalogue_no_match}" "<q>{q.clone()}</q>". "{all}"."
                </p>
            }
            .into_any()
        } else {
            let words = if count == 1 { t.catalogue_match_one } else { t.catalogue_match_many };
            view! {
                <p data-testid="catalogue-count">
                    {count}" "{words}" "<q>{q.clone()}</q>". "{all}"."
                </p>
            }
            .into_any()
        }
    });
    view! {
        <Title text=t.catalogue_title/>
        <h1>{t.catalogue_title}</h1>
        <p class="lead">{t.catalogue_intro}</p>
        <form method="get" action="/tramites" role="search" aria-label=t.catalogue_search_label
            class="card lookup-form catalogue-search" data-testid="catalogue-search">
            <label for="q">{t.catalogue_search_label}</label>
            <p id="q-help" class="help">{t.catalogue_search_help}</p>
            <input id="q" name="q" type="search" value=q.clone() maxlength=MAX_QUERY_CHARS.to_string()
                autocomplete="off" aria-describedby="q-help" data-testid="catalogue-q"/>
            <button type="submit" data-testid="catalogue-submit">{t.catalogue_search_submit}</button>
        </form>
        {empty}
        {outcome}
        <ul class="procedure-list" data-testid="procedure-list">{items}</ul>
    }
}

fn procedure_item(p: &Procedure, t: &'static Texts) -> impl IntoView {
    view! {
        <li class="card procedure-item" data-testid="procedure-item" data-slug=p.slug.clone()>
            <h2><a href=format!("/tramites/{}", p.slug)>{p.name.clone()}</a></h2>
            <p>{catalogue::summary(&p.description)}</p>
            <p class="procedure-badge">{badge(p.online, t)}</p>
        </li>
    }
}

/// "En línea" or "En ventanilla".
fn badge(online: bool, t: &'static Texts) -> impl IntoView {
    let (class, text) = if online { ("badge online", t.badge_online) } else { ("badge", t.badge_window) };
    view! { <span class=class data-testid="procedure-badge">{text}</span> }
}

// ----------------------------------------------------------- /tramites/{slug}

#[component]
pub fn ProcedurePage() -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let slug = leptos_router::hooks::use_params_map().with_untracked(|p| p.get("slug")).unwrap_or_default();
    match ctx.municipality.procedure(&slug) {
        Some(p) => procedure_page(&ctx, p),
        None => view! { <super::layout::NotFound/> }.into_any(),
    }
}

/// The calculator's request and its answer.
struct Calculation {
    tarifa: String,
    cantidad: String,
    outcome: CalcOutcome,
}

/// What the calculator answers: the fee, or the problem to show.
enum CalcOutcome {
    Quoted(TariffQuote),
    Problem(AppError),
}

fn procedure_page(ctx: &PageContext, p: &Procedure) -> AnyView {
    let t = ctx.t();
    let lang = ctx.lang;
    let m = &ctx.municipality;
    let uma = m.uma_table().ok();
    let calculable = catalogue::calculable(m, &p.slug, ctx.today);
    // A procedure without a calculator ignores its parameters.
    let (tarifa, cantidad) = (ctx.param("tarifa"), ctx.param("cantidad"));
    let asked = !calculable.is_empty() && (tarifa.is_some() || cantidad.is_some());
    let calculation = asked.then(|| {
        let (tarifa, cantidad) = (tarifa.unwrap_or_default(), cantidad.unwrap_or_default());
        let outcome = match catalogue::calculate(m, uma.as_ref(), p, &tarifa, &cantidad, ctx.today) {
            Ok(q) => CalcOutcome::Quoted(q),
            Err(e) => {
                set_status(e.status());
                CalcOutcome::Problem(e.into())
            }
        };
        Calculation { tarifa, cantidad, outcome }
    });
    // Only texts of the municipality file and of this module go in the
    // <title> (leptos_meta writes it unescaped), never what was typed.
    let title = match calculation.as_ref().map(|c| &c.outcome) {
        Some(CalcOutcome::Quoted(_)) => format!("{} — {}", t.calc_result_title, p.name),
        Some(CalcOutcome::Problem(_)) => format!("{} — {}", t.calc_error_title, p.name),
        None => format!("{} — {}", p.name, t.catalogue_title),
    };
    let hours = p.office_hours.clone().unwrap_or_else(|| m.office_hours.clone());
    let form = p.form.clone().map(|f| {
        view! {
            <section aria-labelledby="formato" data-testid="section-form">
                <h2 id="formato">{t.proc_form}</h2>
                <p>{f}</p>
            </section>
        }
    });
    // A procedure some of whose tariffs are a licence's own steps (the
    // renewal of an alcohol licence…) sends the holder to the licence's page.
    let licences = m.tariff_groups.iter().any(|g| g.procedure == p.slug && g.requires_licence()).then(|| {
        view! {
            <p data-testid="licence-link-intro">{ctx.lang.pick(
                "¿Ya tiene licencia? Refréndela, cambie su domicilio o pida horas extras con el número de la licencia y su RFC.",
                "Already licensed? Renew it, change its address or ask for extra hours with the licence number and your RFC.",
            )}</p>
            <p><a class="button" href="/licencias" data-testid="licence-link">{ctx.lang.pick("Refrendar mi licencia", "Renew my licence")}</a></p>
        }
    });
    let online = if p.online {
        let href = format!("/tramites/{}/solicitar", p.slug);
        view! {
            <p data-testid="online-yes">{t.proc_online_yes}</p>
            {licences}
            <p><a class="button" href=href data-testid="request-link">{ctx.lang.pick("Solicitar en línea", "Request online")}</a></p>
        }
        .into_any()
    } else {
        view! { <p data-testid="online-no">{t.proc_online_no}" "{m.address.clone()}"."</p> }.into_any()
    };
    let calculator = (!calculable.is_empty()).then(|| calculator(&p.slug, &calculable, calculation, lang));
    view! {
        <Title text=title/>
        <p class="back"><a href="/tramites" data-testid="back-to-catalogue">{t.catalogue_see_all}</a></p>
        <h1 data-testid="procedure-name">{p.name.clone()}</h1>
        <p>{badge(p.online, t)}</p>
        <section aria-labelledby="que-es" data-testid="section-what">
            <h2 id="que-es">{t.proc_what}</h2>
            <p>{p.description.clone()}</p>
        </section>
        <section aria-labelledby="quien" data-testid="section-who">
            <h2 id="quien">{t.proc_who}</h2>
            <p>{p.who.clone()}</p>
        </section>
        <section aria-labelledby="requisitos" data-testid="section-requirements">
            <h2 id="requisitos">{t.proc_requirements}</h2>
            {documents(p, lang)}
        </section>
        <section aria-labelledby="costo" data-testid="section-cost">
            <h2 id="costo">{t.proc_cost}</h2>
            {cost(ctx, p, uma.as_ref())}
        </section>
        {calculator}
        <section aria-labelledby="horario" data-testid="section-hours">
            <h2 id="horario">{t.office_hours_title}</h2>
            <p>{hours}</p>
        </section>
        <section aria-labelledby="respuesta" data-testid="section-response">
            <h2 id="respuesta">{t.proc_response}</h2>
            <p>{p.response_time.clone()}</p>
        </section>
        {form}
        <section aria-labelledby="en-linea" data-testid="section-online">
            <h2 id="en-linea">{t.proc_online}</h2>
            {online}
        </section>
    }
    .into_any()
}

/// The documents, grouped when some are asked only for a new permit or
/// only for a renewal.
fn documents(p: &Procedure, lang: Lang) -> AnyView {
    let t = lang.texts();
    if p.documents.is_empty() {
        return view! { <p data-testid="docs-none">{t.proc_no_documents}</p> }.into_any();
    }
    if p.documents.iter().all(|d| d.when == DocumentWhen::Always) {
        return document_list(p.documents.iter(), "docs-always", lang);
    }
    [DocumentWhen::Always, DocumentWhen::New, DocumentWhen::Renewal]
        .into_iter()
        .filter_map(|when| {
            let docs: Vec<&RequiredDocument> = p.documents.iter().filter(|d| d.when == when).collect();
            if when == DocumentWhen::Always && docs.is_empty() {
                return None;
            }
            let testid = format!("docs-{}", when.as_str());
            let list = if docs.is_empty() {
                view! { <p data-testid=testid>{t.proc_none}</p> }.into_any()
            } else {
                document_list(docs.into_iter(), &testid, lang)
            };
            Some(view! {
                <h3>{lang.pick(when.label_es(), when.label_en())}</h3>
                {list}
            })
        })
        .collect_view()
        .into_any()
}

fn document_list<'a>(docs: impl Iterator<Item = &'a RequiredDocument>, testid: &str, lang: Lang) -> AnyView {
    let t = lang.texts();
    let items = docs
        .map(|d| {
            let optional =
                (!d.required).then(|| view! { " "<em class="optional">{format!("({})", t.proc_if_applicable)}</em> });
            view! { <li data-document=d.code.clone()>{d.name.clone()}{optional}</li> }
        })
        .collect_view();
    view! { <ul class="checklist" data-testid=testid.to_string()>{items}</ul> }.into_any()
}

/// The UMA value, as money, with its period: "$117.31 diarios, desde el
/// 01/02/2026".
fn uma_words(u: &UmaApplied, lang: Lang) -> String {
    let t = lang.texts();
    let until = u.valid_until.map(|d| format!(" {} {}", t.uma_until, format::date(d, lang))).unwrap_or_default();
    format!(
        "{} {}, {} {}{until}",
        format::pesos(u.daily_value),
        t.uma_daily,
        t.uma_since,
        format::date(u.valid_from, lang)
    )
}

/// The cost section: the UMA and the law in force, and a table per tariff
/// group; the procedure's cost note when it has no tariffs.
fn cost(ctx: &PageContext, p: &Procedure, uma: Option<&UmaTable>) -> AnyView {
    let (t, lang, m, today) = (ctx.t(), ctx.lang, &ctx.municipality, ctx.today);
    let groups = catalogue::tariffs_of(m, &p.slug, today);
    let note = p.cost_note.clone().map(|n| view! { <p data-testid="cost-note">{n}</p> });
    let Some(schedule) = tariffs::schedule_on(&m.tariff_schedules, today).filter(|_| !groups.is_empty()) else {
        return match note {
            Some(note) => note.into_any(),
            None => view! { <p data-testid="cost-note">{t.proc_no_tariffs}</p> }.into_any(),
        };
    };
    let uma_line = uma.and_then(|u| tariffs::uma_applied(u, today)).map(|u| {
        view! {
            <p data-testid="uma-in-force">{t.uma_in_force}": "<strong>{uma_words(&u, lang)}</strong>"."</p>
        }
    });
    let tables = groups.iter().map(|g| tariff_table(ctx, g, uma)).collect_view();
    view! {
        {uma_line}
        <p data-testid="tariff-law">{t.schedule_since}" "{format::date(schedule.valid_from, lang)}": "{schedule.law.clone()}"."</p>
        <p class="muted small">{t.fee_rule}</p>
        {note}
        {tables}
    }
    .into_any()
}

fn tariff_table(ctx: &PageContext, g: &GroupTariffs<'_>, uma: Option<&UmaTable>) -> impl IntoView {
    let (t, lang) = (ctx.t(), ctx.lang);
    let rows = g
        .tariffs
        .iter()
        .map(|tariff| {
            let example =
                example_words(&catalogue::example(&ctx.municipality, uma, tariff, ctx.today), tariff.unit, lang);
            let rules = tariff.rules_es();
            let rules = if rules.is_empty() {
                view! { "—" }.into_any()
            } else {
                view! { <ul>{rules.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul> }.into_any()
            };
            view! {
                <tr data-testid="tariff-row" data-tariff=tariff.code.clone()>
                    <th scope="row">{tariff.name.clone()}" "<small class="muted code">{tariff.code.clone()}</small></th>
                    <td data-label=t.col_tariff data-testid="tariff-rate">{rate_words(tariff, lang)}</td>
                    <td data-label=t.col_example data-testid="tariff-example">{example}</td>
                    <td data-label=t.col_legal_basis>{tariff.legal_basis.clone()}</td>
                    <td data-label=t.col_rules>{rules}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="tariffs" data-testid="tariff-table" data-group=g.group.code.clone()>
            <caption>{g.group.name.clone()}</caption>
            <thead>
                <tr>
                    <th scope="col">{t.col_concept}</th>
                    <th scope="col">{t.col_tariff}</th>
                    <th scope="col">{t.col_example}</th>
                    <th scope="col">{t.col_legal_basis}</th>
                    <th scope="col">{t.col_rules}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// A tariff's rate as it reads: "10 UMA por día de evento", "De 20 a 50 UMA
/// por cada uno (lo fija el personal)", "10 % del boletaje vendido", "No se
/// autoriza".
fn rate_words(tariff: &Tariff, lang: Lang) -> String {
    let t = lang.texts();
    let unit = unit_label(lang, tariff.unit);
    match &tariff.rate {
        Rate::Uma(f) => format!("{} UMA {unit}", f.normalize()),
        Rate::UmaRange { min, max } => format!(
            "{} {} {} {} UMA {unit} ({})",
            t.rate_from,
            min.normalize(),
            t.rate_to,
            max.normalize(),
            t.rate_staff_sets
        ),
        Rate::Percent(p) => format!("{} % {unit}", p.normalize()),
        Rate::NotAuthorized(_) => t.rate_not_authorized.to_string(),
    }
}

/// The fee's arithmetic: "4 × 3 × $117.31 = $1,407.72", "10 % × $10,000.00
/// = $1,000.00".
fn formula(q: &TariffQuote) -> String {
    match &q.uma {
        Some(u) => format!(
            "{} × {} × {} = {}",
            q.factor.normalize(),
            q.quantity_charged.normalize(),
            format::pesos(u.daily_value),
            q.fee.display_mxn()
        ),
        None => format!("{} % × {} = {}", q.factor.normalize(), format::pesos(q.quantity_charged), q.fee.display_mxn()),
    }
}

/// A quantity as given: "2.5 m²", "1 día de evento", "$10,000.00".
fn quantity_words(unit: Unit, quantity: Decimal, lang: Lang) -> String {
    if unit == Unit::PercentOfSales {
        return format::pesos(quantity);
    }
    let quantity = quantity.normalize();
    format!("{quantity} {}", unit_noun(lang, unit, quantity == Decimal::ONE))
}

/// A worked example as it reads: "2.5 m² (se cobra como 3) → 4 × 3 ×
/// $117.31 = $1,407.72".
fn example_words(example: &Example, unit: Unit, lang: Lang) -> String {
    let t = lang.texts();
    match example {
        Example::Fee(q) if q.unit == Unit::PercentOfSales => {
            format!("{} {} → {}", t.example_sales, format::pesos(q.quantity_given), formula(q))
        }
        Example::Fee(q) => {
            let charged = if q.quantity_charged == q.quantity_given {
                String::new()
            } else {
                format!(" ({} {})", t.example_charged_as, q.quantity_charged.normalize())
            };
            format!("{}{charged} → {}", quantity_words(q.unit, q.quantity_given, lang), formula(q))
        }
        Example::Range { min, max } => format!(
            "{} {} {} {} {} ({})",
            t.rate_from,
            min.fee.display_mxn(),
            t.rate_to,
            max.fee.display_mxn(),
            unit_label(lang, unit),
            t.rate_staff_sets
        ),
        Example::Refused(_) => format!("{}.", t.rate_not_authorized),
        Example::Unavailable(e) => match lang {
            Lang::Es => e.message_es(),
            Lang::En => e.message_en(),
        },
    }
}

/// The calculator: a GET form to this page, and its answer above it.
fn calculator(slug: &str, groups: &[GroupTariffs<'_>], calculation: Option<Calculation>, lang: Lang) -> AnyView {
    let t = lang.texts();
    let (tarifa, cantidad) =
        calculation.as_ref().map(|c| (c.tarifa.trim().to_string(), c.cantidad.clone())).unwrap_or_default();
    let offered = || groups.iter().flat_map(|g| g.tariffs.iter());
    // The quantity's label is the unit of the chosen tariff (the first one
    // before any is chosen); each option names its own unit.
    let unit = offered().find(|t| t.code == tarifa).or_else(|| offered().next()).map(|t| t.unit);
    let quantity_label = unit.map(|u| unit_quantity(lang, u)).unwrap_or_default();
    let (summary, result, error) = match calculation.map(|c| c.outcome) {
        Some(CalcOutcome::Quoted(q)) => (None, Some(calc_result(&q, lang)), None),
        Some(CalcOutcome::Problem(e)) => {
            let summary = view! { <ErrorSummary err=e.clone() title=t.calc_error_title default_field="cantidad"/> };
            (Some(summary), None, Some(e))
        }
        None => (None, None, None),
    };
    let field_error =
        |field: &str| error.as_ref().filter(|e| e.field.as_deref() == Some(field)).map(|e| e.message(lang).to_string());
    let (tarifa_error, cantidad_error) = (field_error("tarifa"), field_error("cantidad"));
    let options = groups
        .iter()
        .map(|g| {
            let options = g
                .tariffs
                .iter()
                .map(|tariff| {
                    let label = format!("{} — {}", tariff.name, rate_words(tariff, lang));
                    view! { <option value=tariff.code.clone() selected=tariff.code == tarifa>{label}</option> }
                })
                .collect_view();
            view! { <optgroup label=g.group.name.clone()>{options}</optgroup> }
        })
        .collect_view();
    view! {
        <section class="card calculator" id="calculadora" aria-labelledby="calc-title" data-testid="calculator">
            <h2 id="calc-title">{t.calc_title}</h2>
            {summary}
            {result}
            <p>{t.calc_intro}</p>
            <form method="get" action=format!("/tramites/{slug}#calculadora") class="lookup-form calc-form"
                data-testid="calc-form">
                <label for="tarifa">{t.calc_tariff_label}</label>
                {tarifa_error.clone().map(|e| view! { <p id="tarifa-error" class="field-error">{e}</p> })}
                <select id="tarifa" name="tarifa" aria-invalid=tarifa_error.is_some().to_string()
                    aria-describedby=tarifa_error.is_some().then_some("tarifa-error")
                    data-testid="calc-tariff">
                    {options}
                </select>
                <label for="cantidad">{quantity_label}</label>
                <p id="cantidad-help" class="help">{t.calc_quantity_help}</p>
                {cantidad_error.clone().map(|e| view! { <p id="cantidad-error" class="field-error">{e}</p> })}
                <input id="cantidad" name="cantidad" type="text" inputmode="decimal" autocomplete="off"
                    maxlength=MAX_QUANTITY_CHARS.to_string() value=cantidad
                    aria-invalid=cantidad_error.is_some().to_string()
                    aria-describedby=if cantidad_error.is_some() { "cantidad-help cantidad-error" } else { "cantidad-help" }
                    data-testid="calc-quantity"/>
                <button type="submit" data-testid="calc-submit">{t.calc_submit}</button>
            </form>
        </section>
    }
    .into_any()
}

/// The calculator's answer: the UMA and its period, the factor, the
/// quantity given and charged, the fee and its arithmetic.
fn calc_result(q: &TariffQuote, lang: Lang) -> impl IntoView {
    let t = lang.texts();
    let factor = match q.uma {
        Some(_) => format!("{} UMA", q.factor.normalize()),
        None => format!("{} %", q.factor.normalize()),
    };
    let uma = q.uma.as_ref().map(|u| {
        view! { <div><dt>{t.calc_uma}</dt><dd data-testid="calc-uma">{uma_words(u, lang)}</dd></div> }
    });
    view! {
        <div class="calc-result" data-testid="calc-result">
            <h3>{t.calc_result_title}</h3>
            <p><strong>{q.tariff.clone()}</strong>" "{q.name.clone()}</p>
            <dl class="totals">
                {uma}
                <div><dt>{t.calc_factor}</dt><dd data-testid="calc-factor">{factor}</dd></div>
                <div><dt>{t.calc_given}</dt><dd data-testid="calc-given">{quantity_words(q.unit, q.quantity_given, lang)}</dd></div>
                <div><dt>{t.calc_charged}</dt><dd data-testid="calc-charged">{quantity_words(q.unit, q.quantity_charged, lang)}</dd></div>
                <div class="grand"><dt>{t.calc_fee}</dt><dd data-testid="calc-fee">{q.fee.display_mxn()}</dd></div>
            </dl>
            <p data-testid="calc-formula">{formula(q)}</p>
            <p class="muted small">{t.calc_note}</p>
        </div>
    }
}
