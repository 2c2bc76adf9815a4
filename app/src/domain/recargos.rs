//! Recargos: the surcharge for paying late.
//!
//! Recargos are charged per month or fraction of month of delay (CFF art. 21
//! and the municipal hacienda laws that follow it), counted from the due
//! date, up to a cap (five years = 60 months in the CFF):
//!
//! * paying on or before the due date: 0 months;
//! * paying up to the same day of the next month: 1 month;
//! * and so on. Months are always counted from the ORIGINAL due day, clamped
//!   to the end of shorter months: a charge due 31 January reaches its first
//!   month on 28/29 February and its second on 31 March (not 28 March).
//!
//! `recargos = principal × monthly rate × months`, rounded once by the
//! [`ROUNDING_RULE`](crate::domain::money::ROUNDING_RULE).

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;

use crate::domain::money::Centavos;

/// `d` plus `n` months, keeping the day of `d` and clamping it to the last
/// day of the resulting month (Jan 31 + 1 = Feb 28 or 29). Saturates at the
/// last representable date.
pub fn add_months_clamped(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap_or(NaiveDate::MAX)
}

/// Months (or fractions of a month) of delay when a charge due on `due` is
/// paid on `paid_on`: 0 if `paid_on <= due`, otherwise the smallest `n ≥ 1`
/// with `paid_on <= add_months_clamped(due, n)`, never more than `cap`.
pub fn months_of_delay(due: NaiveDate, paid_on: NaiveDate, cap: u32) -> u32 {
    if paid_on <= due {
        return 0;
    }
    // Calendar months between the two dates. The answer is this or one more:
    // `due + (diff − 1)` falls in the month before `paid_on`, so it is
    // earlier; `due + (diff + 1)` falls in the month after, so it is later.
    let diff =
        (i64::from(paid_on.year()) - i64::from(due.year())) * 12 + i64::from(paid_on.month()) - i64::from(due.month());
    let candidate = diff.max(1);
    if candidate >= i64::from(cap) {
        return cap;
    }
    // candidate < cap <= u32::MAX, so the conversion is lossless.
    let candidate = candidate as u32;
    let months = if paid_on <= add_months_clamped(due, candidate) { candidate } else { candidate + 1 };
    months.min(cap)
}

/// `principal × monthly_rate × months`, rounded by the ROUNDING_RULE.
/// Saturates instead of overflowing for absurd inputs.
pub fn recargos(principal: Centavos, monthly_rate: Decimal, months: u32) -> Centavos {
    principal
        .to_decimal()
        .checked_mul(monthly_rate)
        .and_then(|x| x.checked_mul(Decimal::from(months)))
        .map(Centavos::from_decimal)
        .unwrap_or_else(|| {
            let negative = principal.0.is_negative() != monthly_rate.is_sign_negative();
            Centavos(if negative { i64::MIN } else { i64::MAX })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn add_months_keeps_the_original_day() {
        assert_eq!(add_months_clamped(d(2026, 1, 31), 1), d(2026, 2, 28));
        assert_eq!(add_months_clamped(d(2028, 1, 31), 1), d(2028, 2, 29));
        assert_eq!(add_months_clamped(d(2026, 1, 31), 2), d(2026, 3, 31));
        assert_eq!(add_months_clamped(d(2026, 1, 31), 3), d(2026, 4, 30));
        assert_eq!(add_months_clamped(d(2026, 11, 30), 3), d(2027, 2, 28));
        assert_eq!(add_months_clamped(d(2026, 5, 15), 0), d(2026, 5, 15));
        assert_eq!(add_months_clamped(NaiveDate::MAX, 1), NaiveDate::MAX);
    }

    #[test]
    fn months_of_delay_examples() {
        let due = d(2026, 1, 31);
        assert_eq!(months_of_delay(due, d(2026, 1, 1), 60), 0);
        assert_eq!(months_of_delay(due, due, 60), 0);
        assert_eq!(months_of_delay(due, d(2026, 2, 1), 60), 1);
        assert_eq!(months_of_delay(due, d(2026, 2, 28), 60), 1);
        assert_eq!(months_of_delay(due, d(2026, 3, 1), 60), 2);
        assert_eq!(months_of_delay(due, d(2026, 3, 31), 60), 2);
        assert_eq!(months_of_delay(due, d(2026, 4, 1), 60), 3);
        assert_eq!(months_of_delay(due, d(2026, 11, 21), 60), 10);
        assert_eq!(months_of_delay(d(2026, 3, 15), d(2026, 4, 15), 60), 1);
        assert_eq!(months_of_delay(d(2026, 3, 15), d(2026, 4, 16), 60), 2);
        assert_eq!(months_of_delay(d(2020, 1, 1), d(2026, 1, 1), 60), 60);
        assert_eq!(months_of_delay(d(2020, 1, 1), d(2026, 1, 1), 0), 0);
        assert_eq!(months_of_delay(NaiveDate::MIN, NaiveDate::MAX, 100), 100);
        // No overflow even with an unbounded cap.
        assert!(months_of_delay(NaiveDate::MIN, NaiveDate::MAX, u32::MAX) > 6_000_000);
    }

    #[test]
    fn recargos_examples() {
        // 1,234.56 × 0.0147 × 10 = 181.48032 → 181.48
        assert_eq!(recargos(Centavos(123_456), dec!(0.0147), 10), Centavos(18_148));
        // 100.00 × 0.0147 × 1 = 1.47
        assert_eq!(recargos(Centavos(10_000), dec!(0.0147), 1), Centavos(147));
        // 0.34 × 0.0147 × 1 = 0.004998 → 0.00; × 2 = 0.009996 → 0.01
        assert_eq!(recargos(Centavos(34), dec!(0.0147), 1), Centavos(0));
        assert_eq!(recargos(Centavos(34), dec!(0.0147), 2), Centavos(1));
        // 50.00 × 0.0147 × 5 = 3.675 → 3.68 (half away from zero)
        assert_eq!(recargos(Centavos(5_000), dec!(0.0147), 5), Centavos(368));
        assert_eq!(recargos(Centavos(5_000), dec!(0.0147), 0), Centavos::ZERO);
        assert_eq!(recargos(Centavos(i64::MAX), Decimal::MAX, u32::MAX), Centavos(i64::MAX));
    }

    /// Reference implementation: the definition, month by month.
    fn brute_months(due: NaiveDate, paid_on: NaiveDate, cap: u32) -> u32 {
        if paid_on <= due {
            return 0;
        }
        let mut n = 1;
        while paid_on > add_months_clamped(due, n) && n < cap {
            n += 1;
        }
        n.min(cap)
    }

    fn date() -> impl Strategy<Value = NaiveDate> {
        // 2015-01-01 .. ~2035
        (0i64..7_300).prop_map(|o| d(2015, 1, 1) + chrono::Duration::days(o))
    }

    proptest! {
        #[test]
        fn matches_the_definition(due in date(), paid in date(), cap in 1u32..=120) {
            prop_assert_eq!(months_of_delay(due, paid, cap), brute_months(due, paid, cap));
        }

        #[test]
        fn monotone_in_paid_on(due in date(), a in date(), b in date()) {
            let (early, late) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(months_of_delay(due, early, 60) <= months_of_delay(due, late, 60));
        }

        #[test]
        fn never_exceeds_cap(due in date(), paid in date(), cap in 0u32..=120) {
            prop_assert!(months_of_delay(due, paid, cap) <= cap);
        }

        #[test]
        fn zero_when_not_overdue(due in date(), back in 0i64..5_000) {
            let paid = due - chrono::Duration::days(back);
            prop_assert_eq!(months_of_delay(due, paid, 60), 0);
        }

        #[test]
        fn one_within_the_first_month(due in date(), frac in 1i64..=31) {
            let limit = add_months_clamped(due, 1);
            let paid = due + chrono::Duration::days(frac);
            prop_assume!(paid <= limit);
            prop_assert_eq!(months_of_delay(due, paid, 60), 1);
            prop_assert_eq!(months_of_delay(due, limit + chrono::Duration::days(1), 60), 2);
        }

        #[test]
        fn recargos_is_the_hand_formula(
            principal in 0i64..10_000_000_000,
            rate_bp in 0i64..=1_000, // 0 .. 0.1000 in units of 0.0001
            months in 0u32..=60,
        ) {
            let rate = Decimal::new(rate_bp, 4);
            let exact = Decimal::new(principal, 2) * rate * Decimal::from(months);
            let expected = exact.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            let got = recargos(Centavos(principal), rate, months);
            prop_assert_eq!(got.to_decimal(), expected);
        }
    }
}
