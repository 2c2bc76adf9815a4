//! What the `fuzz` modules of the domain's parsers share (tests only).
//!
//! Each parser has a `fuzz` module next to it (`rfc`, `folio`, `money`,
//! `receipt_sig`): properties over arbitrary input that must never panic,
//! accepted values that round-trip, refusals with the documented error.
//! `cargo test -p app --features ssr --lib fuzz::` runs them with
//! `PROPTEST_CASES` cases each (256 without it); the CI stage `fuzz` runs
//! them with many more.

use proptest::prelude::*;
use proptest::test_runner::Config;

/// The configuration of a fuzz property: `PROPTEST_CASES` cases (256
/// without it; `proptest!` lets the variable win over any other count).
/// Prints the count (captured; `--show-output` shows it), which the CI
/// stage `fuzz` sums up.
pub(crate) fn config() -> Config {
    let config = Config::default();
    println!("fuzz property: {} cases", config.cases);
    config
}

/// Any characters at all, control characters and unassigned planes included.
pub(crate) fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect())
}
