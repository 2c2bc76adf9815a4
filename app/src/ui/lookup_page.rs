//! The lookup page: two real GET forms (by account, by RFC) and, when a query
//! arrives, the itemised debt rendered on the server.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::debts::{Columns, DebtLine, DebtsTable};
use super::error_page::ErrorSummary;
use super::format;
use super::islands::RfcField;
use super::PageContext;
use crate::domain::quote::QuoteItem;
use crate::domain::rfc::PersonKind;
use crate::i18n::{Lang, Texts};
use crate::lookup::{lookup_debts, AccountDebt, DebtDocument, LookupOutcome};

#[component]
pub fn LookupPage() -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let t = ctx.t();
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (q.get("cuenta"), q.get("rfc"))
    };
    // The lookup is awaited directly inside the Suspense, not through a
    // Resource: the page is rendered on the server only (islands mode, the
    // body is never hydrated), so nothing needs serialising, and a Resource
    // read under `SsrMode::Async` rarely left the response stalled until the
    // request timeout (seen as a 503 under load in the fuzz stage).
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.searching}</p> }>
            {move || {
                let (cuenta, rfc) = params();
                Suspend::new(async move {
                    let outcome = lookup_debts(cuenta.clone(), rfc.clone()).await.ok().flatten();
                    let ctx = expect_context::<PageContext>();
                    render(&ctx, cuenta.unwrap_or_default(), rfc.unwrap_or_default(), outcome)
                })
            }}
        </Suspense>
    }
}

fn render(ctx: &PageContext, cuenta: String, rfc: String, outcome: Option<LookupOutcome>) -> AnyView {
    let t = ctx.t();
    let lang = ctx.lang;
    let problem = match &outcome {
        Some(LookupOutcome::Problem(p)) => Some(p.clone()),
        _ => None,
    };
    let field_error = |field: &str| {
        problem.as_ref().filter(|p| p.field.as_deref() == Some(field)).map(|p| p.message(lang).to_string())
    };
    let account_error = field_error("cuenta");
    let rfc_error = field_error("rfc");
    let title = match &outcome {
        Some(LookupOutcome::Problem(p)) => format!("{} — {}", p.message(lang), t.lookup_title),
        Some(LookupOutcome::Found(_)) => format!("{} — {}", t.result_title, t.lookup_title),
        None => t.lookup_title.to_string(),
    };
    view! {
        <Title text=title/>
        <h1>{t.lookup_title}</h1>
        {problem.map(|p| view! { <ErrorSummary err=p title=t.error_summary_title default_field="cuenta"/> })}
        {match outcome {
            Some(LookupOutcome::Found(doc)) => result(doc, lang, t, &cuenta, &rfc).into_any(),
            _ => view! { <p class="lead">{t.lookup_intro}</p> }.into_any(),
        }}
        <div class="lookup-forms">
            <form method="get" action="/consulta" class="card lookup-form" aria-labelledby="by-account-title">
                <h2 id="by-account-title">{t.by_account_title}</h2>
                <label for="cuenta">{t.account_label}</label>
                <p id="cuenta-help" class="help">{t.account_help}</p>
                {account_error.clone().map(|e| view! { <p id="cuenta-error" class="field-error">{e}</p> })}
                <input id="cuenta" name="cuenta" type="text" value=cuenta autocomplete="off"
                    autocapitalize="characters" spellcheck="false" maxlength="32"
                    aria-invalid=account_error.is_some().to_string()
                    aria-describedby=if account_error.is_some() { "cuenta-help cuenta-error" } else { "cuenta-help" }
                    data-testid="lookup-account-input"/>
                <button type="submit" data-testid="lookup-account-submit">{t.search}</button>
            </form>
            <form method="get" action="/consulta" class="card lookup-form" aria-labelledby="by-rfc-title">
                <h2 id="by-rfc-title">{t.by_rfc_title}</h2>
                <label for="rfc">{t.rfc_label}</label>
                <p id="rfc-help" class="help">{t.rfc_help}</p>
                {rfc_error.clone().map(|e| view! { <p id="rfc-error" class="field-error">{e}</p> })}
                <RfcField lang=lang value=rfc invalid=rfc_error.is_some()/>
                <button type="submit" data-testid="lookup-rfc-submit">{t.search}</button>
            </form>
        </div>
    }
    .into_any()
}

/// The CSRF token for the pay form (pages render on the server only).
fn csrf_token() -> String {
    #[cfg(feature = "ssr")]
    {
        match leptos::prelude::use_context::<crate::state::AppState>() {
            Some(state) => crate::csrf::page_token(&state.csrf_key, state.cookies),
            None => String::new(),
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

fn result(doc: DebtDocument, lang: Lang, t: &'static Texts, cuenta: &str, rfc: &str) -> impl IntoView {
    let has_items = doc.accounts.iter().any(|a| !a.items.is_empty());
    let pay_form = has_items.then(|| {
        let token = csrf_token();
        view! {
            <form id="pay-form" method="post" action="/orden" class="pay-form" data-testid="pay-form">
                <input type="hidden" name=crate::csrf::CSRF_FIELD value=token/>
                <input type="hidden" name="cuenta" value=cuenta.trim().to_string()/>
                <input type="hidden" name="rfc" value=rfc.trim().to_string()/>
                <button type="submit" data-testid="pay-these">{t.pay_these}</button>
            </form>
        }
    });
    view! {
        <section class="result" data-testid="debt-result" aria-labelledby="result-title">
            <h2 id="result-title">{t.result_title}</h2>
            <p class="muted">{t.computed_on}" "{format::date(doc.computed_on, lang)}</p>
            {doc.accounts.into_iter().map(|a| account_card(a, lang, t)).collect_view()}
            <dl class="totals">
                <div><dt>{t.subtotal}</dt><dd data-testid="subtotal">{doc.subtotal.display_mxn()}</dd></div>
                <div data-testid="rounding-line"><dt>{t.rounding_line}</dt><dd>{doc.rounding.display_mxn()}</dd></div>
                <div class="grand"><dt>{t.grand_total}</dt><dd data-testid="grand-total">{doc.total.display_mxn()}</dd></div>
            </dl>
            <p class="muted small">{t.amounts_note}</p>
            {pay_form}
            <p><a class="button secondary" href="/consulta">{t.new_search}</a></p>
        </section>
    }
}

fn account_card(a: AccountDebt, lang: Lang, t: &'static Texts) -> impl IntoView {
    let person = match a.person_kind {
        PersonKind::Fisica => t.kinds_fisica,
        PersonKind::Moral => t.kinds_moral,
    };
    view! {
        <article class="card account-card" data-testid="account-card" data-account=a.account.clone()>
            <h3>{t.account}" "{a.account.clone()}" "<span class="tag">{a.kind.replace('_', " ")}</span></h3>
            <dl class="owner">
                <div><dt>{t.owner}</dt><dd data-testid="owner-name">{a.owner.clone()}" "<small>"("{person}")"</small></dd></div>
                {a.colonia.clone().map(|c| view! { <div><dt>{t.colonia}</dt><dd data-testid="owner-colonia">{c}</dd></div> })}
            </dl>
            {if a.items.is_empty() {
                view! { <p class="no-debts" data-testid="no-debts">{t.no_debts}</p> }.into_any()
            } else {
                let lines = a.items.into_iter().map(|item| line(item, lang)).collect::<Vec<_>>();
                view! {
                    <DebtsTable lines=lines columns=Columns::FULL lang=lang
                        footer=(t.account_total.to_string(), a.total)/>
                }.into_any()
            }}
        </article>
    }
}

/// A quoted charge as a line of the debts table, with its checkbox.
fn line(item: QuoteItem, lang: Lang) -> DebtLine {
    DebtLine {
        selectable: Some(item.charge_id),
        account: None,
        concept: lang.pick(&item.concept_name_es, &item.concept_name_en).to_string(),
        period: item.period,
        due_date: Some(item.due_date),
        months_late: item.months_late,
        principal: item.principal,
        recargos: item.recargos,
        discount: item.discount,
        discounts: item.discounts,
        total: item.total,
    }
}
