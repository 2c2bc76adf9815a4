//! Recauda's Leptos application: pages, islands and server functions.
//!
//! The app renders on the server (SSR) and ships WebAssembly only for the
//! few interactive *islands*; every citizen flow is a real HTML form first.
//! Server-only code (store, state, rate limiting) sits behind the `ssr` feature.

pub mod catalogue;
pub mod csrf;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod layers;
pub mod lookup;
pub mod orders;
pub mod payments;
pub mod privacy;
pub mod receipts;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod collections;
#[cfg(feature = "ssr")]
pub mod licences;
#[cfg(feature = "ssr")]
pub mod permits;
#[cfg(feature = "ssr")]
pub mod rate_limit;
#[cfg(feature = "ssr")]
pub mod receipt_keys;
#[cfg(feature = "ssr")]
pub mod reconciliation;
#[cfg(feature = "ssr")]
pub mod staff;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod stripe;
#[cfg(feature = "ssr")]
pub mod stripe_payouts;
#[cfg(feature = "ssr")]
pub mod tariffs;
#[cfg(feature = "ssr")]
pub mod tokens;
#[cfg(feature = "ssr")]
pub mod totp;

pub use ui::{shell, App};

/// Entry point of the wasm bundle: wakes up the islands on the page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
