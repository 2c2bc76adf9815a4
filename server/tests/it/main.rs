//! Every integration test of the server, in ONE test binary (`cargo test -p
//! server --test it`): the server and its dependencies are linked once.
//!
//! * `api`, `orders`, `payments`, `receipts`, `pages`: a real server on
//!   port 0 with a fresh SQLite file each (`common::spawn_app`);
//! * `catalogue`: the public trámites catalogue (search, each procedure's
//!   page with its tariffs and worked examples, the no-JavaScript
//!   calculator), as a browser without JavaScript gets it;
//! * `stripe`: the same against an in-process fake of Stripe's endpoints;
//! * `reconciliation`: the treasury's reconciliation with Stripe's payouts
//!   (the fake's payouts and balance transactions), and its store on
//!   SQLite and PostgreSQL;
//! * `store_story`: the store's contract, on SQLite and on PostgreSQL;
//! * `receipt_pdf`: the PDF renderer;
//! * `fuzz`: property-based fuzzing of forms and queries with repeated
//!   fields and of the padrón import (the CI stage `fuzz` runs it with many
//!   cases);
//! * `campaign`: the fault campaign, real `recauda serve` processes killed
//!   at random during payment flows, on SQLite and on PostgreSQL (two servers);
//! * `audit`: the hash-chained audit trail and `recauda audit verify`;
//! * `staff`: staff accounts, `recauda staff create`, logins and lockout;
//! * `caja`: the cashier office through its pages (tills, window payments,
//!   the blind corte, bounced cheques, cancellations, the accounting export;
//!   the day and the export on SQLite and PostgreSQL);
//! * `permits`: permit requests through their pages (filing with documents,
//!   the proof, corrections, approval, payment, the permit) and who may
//!   decide them;
//! * `licences`: alcohol licences through their pages (the lookup by number
//!   and RFC, the no-debt check, the renewal straight to payment and its
//!   certificate, changes and extra hours to review, the Cabildo's approval
//!   of a new licence) and one live renewal per licence and year on SQLite
//!   and PostgreSQL;
//! * `totp`: the staff's TOTP second factor (enrolment, the code at login,
//!   replays, the lockout, the municipality's requirement, admin reset);
//! * `tariffs`: the tariffs in force and fee quotes (every tariff of
//!   Loreto's file quoted against a fee computed by hand, the UMA's change
//!   on 1 February, fractions of a metre, refusals, the OpenAPI document).
//! * `basura`: garbage collection for businesses (`recauda basura alta|baja`,
//!   `recauda cargos generar basura --mes`, the treasury's page and its
//!   fines), on SQLite and PostgreSQL.

mod common;

mod api;
mod audit;
mod basura;
mod boundary;
mod caja;
mod campaign;
mod catalogue;
mod fuzz;
mod licences;
mod orders;
mod pages;
mod payments;
mod permits;
mod receipt_pdf;
mod receipts;
mod reconciliation;
mod staff;
mod store_story;
mod stripe;
mod tariffs;
mod totp;
