//! Payment orders (órdenes de pago): what a citizen is about to pay.
//!
//! An order is created from a lookup (by account or RFC) and, optionally,
//! a selection of its open charges (by default all of them). It freezes the
//! quote of those charges — recargos, discounts, rounding — computed with
//! [`crate::domain::quote::quote`] exactly as the lookup does, until the end
//! of the day in the municipality's time zone. The same charges cannot sit in
//! two live orders (the database enforces it); an expired order can be
//! re-quoted at the day's figures ([`requote`]).
//!
//! Rule "oldest first": a charge cannot be paid while an older open charge
//! (earlier due date; on a tie, earlier period) of the same account and
//! concept is left out of the order.
//!
//! Rule "paid up before the refrendo": the fee of an alcohol licence's
//! renewal cannot be paid while its holder owes what the municipality file
//! names (`crate::licences::renewal_debts_in_order`), unless the same order
//! pays that too.

use crate::domain::payment::OrderStatus;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::lookup::LookupError;

/// Why an order could not be created, read or re-quoted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OrderError {
    /// The lookup part failed (bad account or RFC, not found, rate limited,
    /// database unavailable).
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("an empty list of charges was given")]
    NoChargesSelected,
    #[error("the accounts looked up have nothing open to pay")]
    NothingToPay,
    #[error("charge {0} is not an open charge of the accounts looked up")]
    UnknownCharge(i64),
    #[error("charge {} {} selected without the older open period {}", .0.concept, .0.period, .0.older_period)]
    OlderChargeUnpaid(Box<OlderChargeLeftOut>),
    #[error("charges {0:?} are already in a live payment order")]
    ChargesInLiveOrder(Vec<i64>),
    #[error("payment order {0} not found")]
    NotFound(String),
    #[error("payment order {0} is still live")]
    StillLive(i64),
    #[error("payment order {id} is {status}: only an expired order can be re-quoted")]
    NotRequotable { id: i64, status: OrderStatus },
    #[error("some charges of payment order {0} are no longer open")]
    ChargesNoLongerOpen(i64),
    /// Paid by another order between the quote and the new order.
    #[error("some of these charges were paid a moment ago")]
    ChargesJustPaid,
    /// The padrón changed a charge between the quote and the order.
    #[error("a charge changed since it was quoted")]
    ChargesChanged,
    /// A licence's renewal fee selected while its holder owes what must be
    /// paid first (listed in both languages).
    #[error("the renewal of licence {licence} cannot be paid before the holder's overdue debts")]
    LicenceDebtsUnpaid { licence: String, debts_es: String, debts_en: String },
}

/// A charge selected while an older open charge of the same account and
/// concept was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OlderChargeLeftOut {
    pub account: String,
    pub concept: String,
    pub concept_name_es: String,
    pub concept_name_en: String,
    pub period: String,
    pub older_period: String,
}

impl OrderError {
    pub fn code(&self) -> &'static str {
        match self {
            OrderError::Lookup(e) => e.code(),
            OrderError::NoChargesSelected | OrderError::NothingToPay | OrderError::UnknownCharge(_) => {
                "invalid_charges"
            }
            OrderError::OlderChargeUnpaid(_) => "older_charge_unpaid",
            OrderError::ChargesInLiveOrder(_) => "charges_in_live_order",
            OrderError::NotFound(_) => "order_not_found",
            OrderError::StillLive(_) => "order_still_live",
            OrderError::NotRequotable { .. } => "order_not_requotable",
            OrderError::ChargesNoLongerOpen(_) | OrderError::ChargesJustPaid => "charges_not_open",
            OrderError::ChargesChanged => "charges_changed",
            OrderError::LicenceDebtsUnpaid { .. } => "licence_debts_unpaid",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            OrderError::Lookup(e) => e.status(),
            OrderError::NoChargesSelected
            | OrderError::NothingToPay
            | OrderError::UnknownCharge(_)
            | OrderError::OlderChargeUnpaid(_) => 400,
            OrderError::NotFound(_) => 404,
            OrderError::ChargesInLiveOrder(_)
            | OrderError::StillLive(_)
            | OrderError::NotRequotable { .. }
            | OrderError::ChargesNoLongerOpen(_)
            | OrderError::ChargesJustPaid
            | OrderError::ChargesChanged
            | OrderError::LicenceDebtsUnpaid { .. } => 409,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            OrderError::Lookup(e) => e.message(lang),
            OrderError::NoChargesSelected => lang
                .pick(
                    "Seleccione al menos un adeudo para pagar.",
                    "Select at least one charge to pay.",
                )
                .into(),
            OrderError::NothingToPay => lang
                .pick(
                    "La consulta no tiene adeudos pendientes por pagar.",
                    "There is nothing pending to pay for this lookup.",
                )
                .into(),
            OrderError::UnknownCharge(id) => match lang {
                Lang::Es => format!(
                    "El cargo {id} no es un adeudo pendiente de la cuenta consultada. Vuelva a consultar sus adeudos."
                ),
                Lang::En => format!(
                    "Charge {id} is not a pending charge of the account looked up. Look up your debts again."
                ),
            },
            OrderError::OlderChargeUnpaid(left_out) => {
                let OlderChargeLeftOut { account, concept_name_es, concept_name_en, period, older_period, .. } =
                    left_out.as_ref();
                match lang {
                    Lang::Es => format!(
                        "Para pagar {concept_name_es} del periodo {period} de la cuenta {account} \
                         debe incluir también el periodo {older_period}, que es anterior: los adeudos \
                         se pagan del más antiguo al más reciente."
                    ),
                    Lang::En => format!(
                        "To pay {concept_name_en} for period {period} of account {account} you must \
                         also include period {older_period}, which is older: charges are paid oldest first."
                    ),
                }
            }
            OrderError::ChargesInLiveOrder(_) => lang
                .pick(
                    "Alguno de estos adeudos ya está en otra orden de pago vigente. Termine ese pago o espere a que venza la orden.",
                    "Some of these charges are already in another live payment order. Finish that payment or wait until the order expires.",
                )
                .into(),
            OrderError::NotFound(id) => match lang {
                Lang::Es => format!("No encontramos la orden de pago {id}."),
                Lang::En => format!("We could not find payment order {id}."),
            },
            OrderError::StillLive(id) => match lang {
                Lang::Es => format!("La orden de pago {id} sigue vigente: no hace falta volver a cotizarla."),
                Lang::En => format!("Payment order {id} is still live: there is no need to quote it again."),
            },
            OrderError::NotRequotable { id, status } => match lang {
                Lang::Es => format!(
                    "La orden de pago {id} está en estado «{}»: solo una orden vencida se puede volver a cotizar.",
                    status.label_es()
                ),
                Lang::En => format!("Payment order {id} is {status}: only an expired order can be quoted again."),
            },
            OrderError::ChargesChanged => lang
                .pick(
                    "Sus adeudos se actualizaron mientras preparábamos la orden. Vuelva a consultarlos.",
                    "Your debts were updated while we prepared the order. Look them up again.",
                )
                .into(),
            OrderError::ChargesJustPaid => lang
                .pick(
                    "Algunos de estos adeudos se acaban de pagar. Vuelva a consultar sus adeudos.",
                    "Some of these charges were paid a moment ago. Look up your debts again.",
                )
                .into(),
            OrderError::ChargesNoLongerOpen(id) => match lang {
                Lang::Es => format!(
                    "Algunos adeudos de la orden {id} ya no están pendientes. Vuelva a consultar sus adeudos."
                ),
                Lang::En => format!("Some charges of order {id} are no longer pending. Look up your debts again."),
            },
            OrderError::LicenceDebtsUnpaid { licence, debts_es, debts_en } => match lang {
                Lang::Es => format!(
                    "El refrendo de la licencia {licence} no se puede pagar mientras haya adeudos vencidos. \
                     Pague primero: {debts_es}."
                ),
                Lang::En => format!(
                    "The renewal of licence {licence} cannot be paid while there are overdue debts. \
                     Pay first: {debts_en}."
                ),
            },
        }
    }

    pub fn hint(&self, lang: Lang) -> Option<String> {
        match self {
            OrderError::Lookup(e) => e.hint(lang),
            _ => None,
        }
    }
}

impl From<OrderError> for AppError {
    fn from(e: OrderError) -> AppError {
        match e {
            OrderError::Lookup(e) => e.into(),
            other => AppError {
                hint_es: other.hint(Lang::Es),
                hint_en: other.hint(Lang::En),
                ..AppError::new(other.status(), other.code(), other.message(Lang::Es), other.message(Lang::En))
            },
        }
    }
}

#[cfg(feature = "ssr")]
pub use service::{choose_charges, create_order, get_order, requote};

#[cfg(feature = "ssr")]
mod service {
    use std::collections::HashSet;

    use chrono::{DateTime, Utc};

    use super::{OlderChargeLeftOut, OrderError};
    use crate::domain::municipality::Municipality;
    use crate::domain::payment::OrderStatus;
    use crate::domain::quote::{quote, OpenCharge};
    use crate::lookup::{find_debts, LookupError, LookupQuery};
    use crate::state::AppState;
    use crate::store::{ChargeRecord, NewOrder, Order, OrderItem, StoreError};

    fn unavailable(e: StoreError) -> OrderError {
        tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "orders: store failed");
        OrderError::Lookup(LookupError::Unavailable)
    }

    /// Expires every live order past its end of day (before a write that
    /// depends on it: creating, re-quoting, paying).
    async fn expire_due(state: &AppState, now: DateTime<Utc>) -> Result<(), OrderError> {
        let expired = state.store.expire_due_orders(now).await.map_err(unavailable)?;
        if expired > 0 {
            tracing::info!(expired, "payment orders expired");
        }
        Ok(())
    }

    /// The charges an order takes from `open` (the open charges of the
    /// accounts looked up): all of them, or the `selected` ids (repeats
    /// ignored), checked against the rule "oldest first". Keeps the order of
    /// `open`.
    pub fn choose_charges<'a>(
        open: &'a [ChargeRecord],
        selected: Option<&[i64]>,
        m: &Municipality,
    ) -> Result<Vec<&'a ChargeRecord>, OrderError> {
        let chosen: Vec<&ChargeRecord> = match selected {
            None => open.iter().collect(),
            Some([]) => return Err(OrderError::NoChargesSelected),
            Some(ids) => {
                let wanted: HashSet<i64> = ids.iter().copied().collect();
                let known: HashSet<i64> = open.iter().map(|c| c.id).collect();
                if let Some(unknown) = ids.iter().find(|id| !known.contains(id)) {
                    return Err(OrderError::UnknownCharge(*unknown));
                }
                open.iter().filter(|c| wanted.contains(&c.id)).collect()
            }
        };
        if chosen.is_empty() {
            return Err(OrderError::NothingToPay);
        }
        let taken: HashSet<i64> = chosen.iter().map(|c| c.id).collect();
        for c in &chosen {
            let older_left_out = open
                .iter()
                .filter(|o| {
                    !taken.contains(&o.id)
                        && o.account_id == c.account_id
                        && o.concept == c.concept
                        && (o.due_date, &o.period) < (c.due_date, &c.period)
                })
                .min_by(|a, b| (a.due_date, &a.period).cmp(&(b.due_date, &b.period)));
            if let Some(older) = older_left_out {
                let (name_es, name_en) = match m.concept(&c.concept) {
                    Some(k) => (k.name_es.clone(), k.name_en.clone()),
                    None => (c.concept.clone(), c.concept.clone()),
                };
                return Err(OrderError::OlderChargeUnpaid(Box::new(OlderChargeLeftOut {
                    account: c.account.to_string(),
                    concept: c.concept.clone(),
                    concept_name_es: name_es,
                    concept_name_en: name_en,
                    period: c.period.clone(),
                    older_period: older.period.clone(),
                })));
            }
        }
        Ok(chosen)
    }

    /// Quotes the chosen charges of `open` (the open charges of the accounts
    /// concerned) today and stores the order.
    async fn place_order(
        state: &AppState,
        open: &[ChargeRecord],
        selected: Option<&[i64]>,
        requoted_from: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Order, OrderError> {
        let today = state.clock.today();
        let chosen = choose_charges(open, selected, &state.municipality)?;
        let m = &state.municipality;
        let owed =
            crate::licences::renewal_debts_in_order(&state.store, m, &chosen, today).await.map_err(unavailable)?;
        if let Some((licence, debts)) = owed {
            let list = |line: fn(&Municipality, &crate::store::LicenceDebt) -> String| {
                debts.iter().map(|d| line(m, d)).collect::<Vec<_>>().join("; ")
            };
            return Err(OrderError::LicenceDebtsUnpaid {
                licence: licence.number,
                debts_es: list(crate::licences::debt_line_es),
                debts_en: list(crate::licences::debt_line_en),
            });
        }
        let chosen: Vec<OpenCharge> = chosen.into_iter().map(OpenCharge::from).collect();
        let quoted = quote(&chosen, &state.municipality, today);
        let items = quoted
            .accounts
            .into_iter()
            .flat_map(|a| {
                let account = a.account;
                a.items.into_iter().map(move |i| OrderItem {
                    charge_id: i.charge_id,
                    account: account.clone(),
                    concept: i.concept,
                    period: i.period,
                    due_date: i.due_date,
                    principal: i.principal,
                    recargos: i.recargos,
                    discount: i.discount,
                    total: i.total,
                })
            })
            .collect();
        let order = NewOrder {
            items,
            subtotal: quoted.subtotal,
            rounding: quoted.rounding,
            total: quoted.total,
            expires_at: state.clock.end_of_day(today),
            requoted_from,
            reference_prefix: state.municipality.reference_prefix,
            issued_on: today,
        };
        state.store.create_order(&order, now).await.map_err(|e| match e {
            StoreError::ChargesInLiveOrder(ids) => OrderError::ChargesInLiveOrder(ids),
            StoreError::ChargesNotOpen => OrderError::ChargesJustPaid,
            StoreError::ChargesChanged => OrderError::ChargesChanged,
            other => unavailable(other),
        })
    }

    /// Creates an order for the charges of `query` (all open ones, or the
    /// `selected` ids). Rate limiting is the HTTP layer's job.
    #[tracing::instrument(name = "orders.create_order", skip_all)]
    pub async fn create_order(
        state: &AppState,
        query: &LookupQuery,
        selected: Option<&[i64]>,
    ) -> Result<Order, OrderError> {
        let now = state.clock.now();
        expire_due(state, now).await?;
        let found = find_debts(state, query).await?;
        let open: Vec<ChargeRecord> = found.into_iter().flat_map(|d| d.charges).collect();
        place_order(state, &open, selected, None, now).await
    }

    /// The order, its items and its transitions, as stored (reading never
    /// writes: the expiry job moves orders past their day).
    pub async fn get_order(state: &AppState, id: i64) -> Result<Order, OrderError> {
        state.store.get_order(id).await.map_err(unavailable)?.ok_or_else(|| OrderError::NotFound(id.to_string()))
    }

    /// A new order for the charges of expired order `id`, at today's figures,
    /// linked to it by `requoted_from`.
    #[tracing::instrument(name = "orders.requote", skip(state))]
    pub async fn requote(state: &AppState, id: i64) -> Result<Order, OrderError> {
        let now = state.clock.now();
        expire_due(state, now).await?;
        let old = state
            .store
            .get_order(id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| OrderError::NotFound(id.to_string()))?;
        if old.status.is_live() {
            return Err(OrderError::StillLive(id));
        }
        if old.status != OrderStatus::Expired {
            return Err(OrderError::NotRequotable { id, status: old.status });
        }
        let charges: Vec<i64> = old.items.iter().map(|i| i.charge_id).collect();
        let accounts = state.store.accounts_of_charges(&charges).await.map_err(unavailable)?;
        let open = state.store.open_charges(&accounts).await.map_err(unavailable)?;
        place_order(state, &open, Some(&charges), Some(id), now).await.map_err(|e| match e {
            OrderError::UnknownCharge(_) | OrderError::ChargesNoLongerOpen(_) => OrderError::ChargesNoLongerOpen(id),
            other => other,
        })
    }

    #[cfg(test)]
    mod tests {
        use chrono::NaiveDate;

        use super::*;
        use crate::domain::money::Centavos;
        use crate::store::ChargeStatus;

        fn charge(id: i64, account_id: i64, concept: &str, period: &str, due: &str) -> ChargeRecord {
            ChargeRecord {
                id,
                account_id,
                account: crate::domain::account::AccountNumber::parse(&format!("A-{account_id}")).unwrap(),
                concept: concept.into(),
                period: period.into(),
                due_date: NaiveDate::parse_from_str(due, "%Y-%m-%d").unwrap(),
                principal: Centavos(10_000),
                status: ChargeStatus::Open,
            }
        }

        fn ids(chosen: &[&ChargeRecord]) -> Vec<i64> {
            chosen.iter().map(|c| c.id).collect()
        }

        #[test]
        fn oldest_first() {
            let m = crate::domain::municipality::tests::sample();
            let open = vec![
                charge(1, 1, "agua", "2026-01", "2026-02-15"),
                charge(2, 1, "agua", "2026-02", "2026-03-15"),
                charge(3, 1, "predial", "2026-B1", "2026-02-28"),
                charge(4, 2, "agua", "2025-12", "2026-01-15"),
                // Same due date: the period breaks the tie.
                charge(5, 1, "basura", "2026-02", "2026-03-31"),
                charge(6, 1, "basura", "2026-03", "2026-03-31"),
            ];
            assert_eq!(ids(&choose_charges(&open, None, &m).unwrap()), [1, 2, 3, 4, 5, 6]);
            // The oldest alone, another concept, another account: fine.
            assert_eq!(ids(&choose_charges(&open, Some(&[3, 1, 4, 1]), &m).unwrap()), [1, 3, 4]);
            match choose_charges(&open, Some(&[2]), &m) {
                Err(OrderError::OlderChargeUnpaid(left_out)) => {
                    assert_eq!((left_out.period.as_str(), left_out.older_period.as_str()), ("2026-02", "2026-01"));
                    assert_eq!(left_out.concept_name_es, m.concept("agua").unwrap().name_es);
                }
                other => panic!("expected OlderChargeUnpaid, got {other:?}"),
            }
            let err = choose_charges(&open, Some(&[6]), &m).unwrap_err();
            assert_eq!(err.code(), "older_charge_unpaid");
            assert!(err.message(crate::i18n::Lang::Es).contains("periodo 2026-02"), "{err:?}");
            assert_eq!(choose_charges(&open, Some(&[]), &m), Err(OrderError::NoChargesSelected));
            assert_eq!(choose_charges(&open, Some(&[1, 99]), &m), Err(OrderError::UnknownCharge(99)));
            assert_eq!(choose_charges(&[], None, &m), Err(OrderError::NothingToPay));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_code_a_status_and_both_languages() {
        let errors = [
            OrderError::NoChargesSelected,
            OrderError::NothingToPay,
            OrderError::UnknownCharge(7),
            OrderError::ChargesInLiveOrder(vec![1, 2]),
            OrderError::NotFound("9".into()),
            OrderError::StillLive(3),
            OrderError::NotRequotable { id: 3, status: OrderStatus::Succeeded },
            OrderError::ChargesNoLongerOpen(3),
            OrderError::Lookup(LookupError::AccountNotFound("P-1".into())),
            OrderError::LicenceDebtsUnpaid {
                licence: "ALC-1".into(),
                debts_es: "cuenta P-1: Impuesto predial".into(),
                debts_en: "account P-1: Property tax".into(),
            },
        ];
        let statuses: Vec<u16> = errors.iter().map(OrderError::status).collect();
        assert_eq!(statuses, [400, 400, 400, 409, 404, 409, 409, 409, 404, 409]);
        for e in &errors {
            assert!(!e.code().is_empty());
            assert_ne!(e.message(Lang::Es), e.message(Lang::En));
        }
        assert_eq!(errors[3].code(), "charges_in_live_order");
        assert_eq!(errors[8].code(), "not_found");
    }
}
