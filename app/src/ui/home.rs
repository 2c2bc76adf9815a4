//! The home page: what a citizen can do here, the way to the trámites
//! catalogue, office hours and the discount programs in force today.

use leptos::prelude::*;
use leptos_meta::Title;

use super::format;
use super::PageContext;

#[component]
pub fn HomePage() -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let t = ctx.t();
    let m = ctx.municipality.clone();
    // Licences renewed from their own page (the file's tariff groups say so).
    let licences = m.tariff_groups.iter().any(|g| g.requires_licence());
    view! {
        <Title text=format!("{} — {}", t.home_title, m.name)/>
        <section class="hero" data-testid="home">
            <h1>{t.home_title}</h1>
            <p>{t.home_intro}</p>
            <a class="button" data-testid="home-lookup-link" href="/consulta">{t.home_cta}</a>
        </section>
        <section>
            <h2>{t.home_what_title}</h2>
            <ul class="checklist">
                {t.home_what.iter().map(|line| view! { <li>{*line}</li> }).collect_view()}
            </ul>
        </section>
        <section class="card" data-testid="home-catalogue" aria-labelledby="home-catalogue-title">
            <h2 id="home-catalogue-title">{t.home_catalogue_title}</h2>
            <p>{t.home_catalogue_intro}</p>
            <a class="button secondary" data-testid="home-catalogue-link" href="/tramites">{t.home_catalogue_cta}</a>
            {licences.then(|| view! {
                <p>
                    <a data-testid="home-licence-link" href="/licencias">
                        {ctx.lang.pick("Refrendar mi licencia de bebidas alcohólicas", "Renew my alcohol sales licence")}
                    </a>
                </p>
            })}
        </section>
        <DiscountsInForce/>
        <section class="office" data-testid="office-hours">
            <h2>{t.office_hours_title}</h2>
            <p>{m.office_hours.clone()}</p>
            <p>{t.office_address}": "{m.address.clone()}</p>
            {(!m.phone.trim().is_empty()).then(|| view! {
                <p>{t.office_phone}": "<a href=format!("tel:{}", m.phone.replace(' ', ""))>{m.phone.clone()}</a></p>
            })}
        </section>
    }
}

/// The discount programs the authorities approved that apply today, each with
/// its legal basis and last valid day.
#[component]
pub fn DiscountsInForce() -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let t = ctx.t();
    let lang = ctx.lang;
    let programs: Vec<_> = ctx.municipality.discounts.iter().filter(|p| p.applies_on(ctx.today)).cloned().collect();
    view! {
        <section class="discounts" data-testid="discounts-in-force">
            <h2>{t.discounts_title}</h2>
            {if programs.is_empty() {
                view! { <p>{t.discounts_none}</p> }.into_any()
            } else {
                view! {
                    <ul class="discount-list">
                        {programs.into_iter().map(|p| view! {
                            <li data-testid="discount-program">
                                <strong>{p.name.clone()}</strong>
                                <span>{format!(" — {} % {} {}", p.percent.normalize(), t.discount_on, format::component(&p.component, lang))}</span>
                                <br/>
                                <small>{p.legal_basis.clone()}". "{t.discount_valid_until}" "{format::date(p.valid_until, lang)}"."</small>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
