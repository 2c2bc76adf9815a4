//! THE table of charges, for every page that lists them: the lookup (with
//! a checkbox per charge, months late, the discounts applied), the payment
//! order (frozen, with the account of each line), the receipt and its
//! verification (what was paid). On a phone each line becomes a small card:
//! the concept (with its checkbox) as its title, then one labelled row per
//! figure (Periodo, Vence, Importe, Recargos, Descuento, Total), the way
//! the printed receipt reads.

use chrono::NaiveDate;
use leptos::prelude::*;

use super::format;
use crate::domain::discounts::AppliedDiscount;
use crate::domain::money::Centavos;
use crate::i18n::Lang;

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct DebtLine {
    /// With a checkbox (named `cargo`, in form `pay-form`) when set.
    pub selectable: Option<i64>,
    /// The account, on pages that mix accounts (an order).
    pub account: Option<String>,
    pub concept: String,
    pub period: String,
    pub due_date: Option<NaiveDate>,
    pub months_late: u32,
    pub principal: Centavos,
    pub recargos: Centavos,
    pub discount: Centavos,
    pub discounts: Vec<AppliedDiscount>,
    pub total: Centavos,
}

/// Which columns a table shows (the concept, period and total always).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub account: bool,
    pub due_date: bool,
    pub breakdown: bool,
}

impl Columns {
    /// Everything: the lookup and the order.
    pub const FULL: Columns = Columns { account: false, due_date: true, breakdown: true };
}

struct Labels {
    account: &'static str,
    concept: &'static str,
    period: &'static str,
    due: &'static str,
    principal: &'static str,
    recargos: &'static str,
    discount: &'static str,
    total: &'static str,
    months_late: &'static str,
    include: &'static str,
    discount_on: &'static str,
    valid_until: &'static str,
}

fn labels(lang: Lang) -> Labels {
    let t = lang.texts();
    Labels {
        account: t.account,
        concept: t.col_concept,
        period: t.col_period,
        due: t.col_due_date,
        principal: t.col_principal,
        recargos: t.col_recargos,
        discount: t.col_discount,
        total: t.col_total,
        months_late: t.months_late,
        include: t.include_charge,
        discount_on: t.discount_on,
        valid_until: t.discount_valid_until,
    }
}

/// The table. `footer` is a labelled total under it (an account's total).
#[component]
pub fn DebtsTable(
    lines: Vec<DebtLine>,
    columns: Columns,
    lang: Lang,
    #[prop(optional)] footer: Option<(String, Centavos)>,
    /// `data-testid` of each row (the pages' tests find them by it).
    #[prop(default = "debt-item")]
    row_testid: &'static str,
) -> impl IntoView {
    let l = labels(lang);
    let span = 2 + usize::from(columns.account) + usize::from(columns.due_date) + 3 * usize::from(columns.breakdown);
    let head = view! {
            <thead>
                <tr>
                    {columns.account.then(|| view! { <th scope="col">{l.account}</th> })}
                    <th scope="col">{l.concept}</th>
                    <th scope="col">{l.period}</th>
                    {columns.due_date.then(|| view! { <th scope="col">{l.due}</th> })}
                    {columns.breakdown.then(|| view! {
                        <th scope="col" class="num">{l.principal}</th>
                        <th scope="col" class="num">{l.recargos}</th>
                        <th scope="col" class="num">{l.discount}</th>
                    })}
                    <th scope="col" class="num">{l.total}</th>
                </tr>
            </thead>
    }
    .into_any();
    let foot = footer.map(|(label, total)| {
        view! {
            <tfoot>
                <tr>
                    <th scope="row" colspan=span.to_string()>{label.clone()}</th>
                    <td class="num" data-label=label data-testid="account-total">{total.display_mxn()}</td>
                </tr>
            </tfoot>
        }
        .into_any()
    });
    view! {
        <table class="debts">
            {head}
            <tbody>
                {lines.into_iter().map(|line| row(line, columns, lang, row_testid)).collect_view()}
            </tbody>
            {foot}
        </table>
    }
}

fn row(line: DebtLine, columns: Columns, lang: Lang, testid: &'static str) -> AnyView {
    let l = labels(lang);
    let discount =
        if line.discount.0 == 0 { line.discount.display_mxn() } else { format!("−{}", line.discount.display_mxn()) };
    let late = (line.months_late > 0).then(|| format!("({} {})", line.months_late, l.months_late));
    let concept = line.concept.clone();
    let heading = match line.selectable {
        Some(id) => {
            let (for_id, input_id) = (format!("cargo-{id}"), format!("cargo-{id}"));
            view! {
                <label class="charge-choice" for=for_id>
                    <input type="checkbox" id=input_id name="cargo" form="pay-form" value=id.to_string() checked
                        aria-label=format!("{} {} {}", l.include, concept, line.period) data-testid="charge-checkbox"/>
                    <span>{concept.clone()}</span>
                </label>
            }
            .into_any()
        }
        None => view! { <span>{concept.clone()}</span> }.into_any(),
    };
    view! {
        <tr data-testid=testid>
            {columns.account.then(|| view! { <td data-label=l.account>{line.account.clone().unwrap_or_default()}</td> })}
            <th scope="row" class="concept" data-testid="item-concept">{heading}</th>
            <td data-label=l.period data-testid="item-period">{line.period.clone()}</td>
            {columns.due_date.then(|| view! {
                <td data-label=l.due data-testid="item-due-date">
                    <span class="cell">
                        {line.due_date.map(|d| format::date(d, lang))}
                        {late.map(|late| view! { " "<small class="late">{late}</small> })}
                    </span>
                </td>
            })}
            {columns.breakdown.then(|| view! {
                <td class="num" data-label=l.principal data-testid="item-principal">{line.principal.display_mxn()}</td>
                <td class="num" data-label=l.recargos data-testid="item-recargos">{line.recargos.display_mxn()}</td>
                <td class="num" data-label=l.discount>
                    <span class="cell">
                        <span data-testid="item-discount">{discount}</span>
                        {(!line.discounts.is_empty()).then(|| view! {
                            <ul class="discount-details">
                                {line.discounts.iter().map(|d| view! {
                                    <li data-testid="discount-detail">
                                        {format!("{}: {} % {} {}. ", d.name, d.percent.normalize(), l.discount_on, format::component(&d.component, lang))}
                                        <small>{format!("{}. {} {}.", d.legal_basis, l.valid_until, format::date(d.valid_until, lang))}</small>
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                    </span>
                </td>
            })}
            <td class="num" data-label=l.total data-testid="item-total"><strong>{line.total.display_mxn()}</strong></td>
        </tr>
    }
    .into_any()
}
