//! Working days (días hábiles): Monday to Friday, except the holidays the
//! municipality file lists. The review queue counts a request's legal
//! response time in them, and the clock stops while the request waits for
//! the citizen's corrections.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

/// The treasury's calendar: weekends and listed holidays are not working
/// days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkingCalendar {
    holidays: BTreeSet<NaiveDate>,
}

impl WorkingCalendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> WorkingCalendar {
        WorkingCalendar { holidays: holidays.into_iter().collect() }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// Working days in `(from, to]`: a request filed on a Monday has used one
    /// working day on Tuesday. Zero when `to <= from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.succ_opt().expect("a date before another has a successor");
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }

    /// The `n`-th working day after `from`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().expect("dates far from the end of the calendar");
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }
}

/// Whether a request's clock runs in a stretch of its timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The office has the request (enviada, en revisión).
    Running,
    /// The citizen has it (requiere corrección): the clock stops.
    Paused,
    /// Decided (approved, rejected…): nothing more to count.
    Stopped,
}

/// Working days the office has used on a request: the working days of the
/// stretches in which its clock ran, from each change of clock (a dated
/// timeline, oldest first) to the next one or `today`.
pub fn elapsed_working_days(calendar: &WorkingCalendar, timeline: &[(NaiveDate, Clock)], today: NaiveDate) -> u32 {
    let mut elapsed = 0;
    for (i, (from, clock)) in timeline.iter().enumerate() {
        let until = timeline.get(i + 1).map_or(today, |next| next.0);
        if *clock == Clock::Running {
            elapsed += calendar.working_days_between(*from, until.min(today));
        }
    }
    elapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn calendar() -> WorkingCalendar {
        // 16 November 2026 (third Monday): Revolución.
        WorkingCalendar::new([d(11, 16)])
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let c = calendar();
        assert!(!c.is_working_day(d(11, 14)), "Saturday");
        assert!(!c.is_working_day(d(11, 16)), "holiday");
        assert!(c.is_working_day(d(11, 17)));
        // Friday 13 → Tuesday 17: Mon 16 is a holiday, so one working day.
        assert_eq!(c.working_days_between(d(11, 13), d(11, 17)), 1);
        assert_eq!(c.working_days_between(d(11, 17), d(11, 13)), 0);
        // Five working days after Friday 13: 17, 18, 19, 20, 23.
        assert_eq!(c.add_working_days(d(11, 13), 5), d(11, 23));
        assert_eq!(c.add_working_days(d(11, 13), 0), d(11, 13));
    }

    #[test]
    fn the_clock_pauses_while_the_citizen_corrects() {
        let c = calendar();
        // Filed Mon 2 Nov; corrections asked Wed 4; answered Mon 23; today Wed 25.
        let timeline = [(d(11, 2), Clock::Running), (d(11, 4), Clock::Paused), (d(11, 23), Clock::Running)];
        // Running 2→4: Tue 3, Wed 4 = 2; paused 4→23; running 23→25: Tue 24, Wed 25 = 2.
        assert_eq!(elapsed_working_days(&c, &timeline, d(11, 25)), 4);
        // Without the pause it would have been 16 working days.
        assert_eq!(elapsed_working_days(&c, &[(d(11, 2), Clock::Running)], d(11, 25)), 16);
        // Still paused today: only the first stretch counts.
        assert_eq!(elapsed_working_days(&c, &timeline[..2], d(11, 25)), 2);
        // Decided on the 24th: the clock stopped there.
        let decided = [(d(11, 2), Clock::Running), (d(11, 10), Clock::Stopped)];
        assert_eq!(elapsed_working_days(&c, &decided, d(11, 25)), 6);
    }
}
