//! The `recauda` server: configuration, HTTP surface (pages via the `app`
//! crate, JSON API), padrón import and demo data.

pub mod api;
pub mod caja;
pub mod config;
pub mod demo;
pub mod desk_photo;
pub mod garbage;
pub mod http;
pub mod import;
pub mod jobs;
pub mod licence_import;
pub mod licences;
pub mod pay;
pub mod permits;
pub mod precompress;
pub mod receipt_pdf;
pub mod receipts;
pub mod reconciliation;
pub mod security;
pub mod staff;
pub mod startup;
pub mod stripe_webhook;
pub mod verify_cli;
