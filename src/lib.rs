//! Tether keeps people connected to care after they leave detox, a crisis unit or residential treatment:
//! it texts them caring contacts on a schedule, in their own time zone and language, and never after STOP.
//!
//! # Where things happen
//! - A text is **planned** from [`scheduling`]: [`scheduling::cadence`] works out when each step of a schedule
//!   is due (pure, like all of `scheduling`), and [`planner`] writes due steps into the outbox.
//! - A text is **sent** from [`outbox`]: the dispatcher claims due rows, re-checks consent, status, quiet hours
//!   and lateness ([`outbox::rules`]), and hands them to a [`provider`].
//! - Delivery **status** comes back through [`http::webhooks`].
//! - A text is **received** in [`inbound`] (keywords, replies, relays) after [`risk`] has read what it means
//!   for the person's safety; a crisis is **escalated** in [`escalation`], paging on-call staff in turn
//!   ([`domain::oncall`] says who is on call, [`domain::crisis_hold`] what waits meanwhile).
//! - [`scheduler`] is the background loop tying planning and sending together.
//! - [`storage`] is the one type that talks to SQLite or PostgreSQL; [`templates`] loads the schedule and
//!   message files from `message_templates/`.
//! - [`service`] holds the use cases (enrolling, safety plans, reminders, catalog edits, escalations…) that the
//!   API, the console and the CLI all call; handlers only parse, call and answer.
//! - [`cli`] is the `tether` command line, one file per command group; `src/main.rs` only parses and
//!   calls [`cli::run`].

// Nothing here needs `unsafe`; the compiler refuses any that creeps in, so memory safety rests on the
// dependencies alone.
#![forbid(unsafe_code)]

pub mod access;
pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod escalation;
pub mod group_commit;
pub mod http;
pub mod inbound;
pub mod outbox;
pub mod planner;
pub mod preview;
pub mod provider;
pub mod risk;
pub mod sandbox;
pub mod scheduler;
pub mod scheduling;
pub mod service;
pub mod signals;
pub mod storage;
pub mod telemetry;
pub mod templates;
