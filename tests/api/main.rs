//! End-to-end tests: the real application on a random port, real SQLite and PostgreSQL, a mock provider
//! speaking the Twilio protocol. One binary, so the stack links once.

mod helpers;
mod mock_provider {
    pub use tether::sandbox::mock_provider::*;
}

mod access;
mod admin_api;
mod appointment_kinds;
mod bridge;
mod browser;
mod catalog_edits;
mod cli;
mod concurrency;
mod console;
mod contract;
mod crash;
mod crisis_hold;
mod fallback;
mod held;
mod http_hardening;
mod inbound;
mod layers;
mod openapi;
mod reminders;
mod risk_corpus;
mod safety_plan;
mod sandbox;
mod scenarios;
mod scheduling;
mod scoping;
mod sending;
mod unseen_notices;
mod webhooks;
