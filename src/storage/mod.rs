//! The one type that talks to the database: SQLite (embedded default) or PostgreSQL, chosen by
//! `DATABASE_URL`'s scheme at run time.
//!
//! Both backends run the same SQL through sqlx's `Any` driver: `$N` placeholders, `ON CONFLICT … DO NOTHING`
//! and `RETURNING` mean the same on both. Where the dialects differ (claiming due texts) [`Backend`] picks the
//! statement. Instants are stored as UTC unix seconds and passed in by the caller, never taken from SQL, so
//! tests own the clock.

mod access;
mod catalog;
mod clients;
mod engagement;
mod enrollments;
mod escalations;
mod import;
mod inbound;
mod instances;
mod oncall;
mod outbox;
mod reminders;
mod safety_plans;
mod signals;
mod staff;

use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

pub use access::SERVICE_ACTOR;
pub use access::{AuditEntry, NewAuditEntry, Session, TokenRecord};
pub use catalog::{CatalogVersion, CatalogVersionSummary};
pub use clients::{ClientRecord, ReceivedText, SendTarget};
pub use engagement::{Engagement, KindFigures};
pub use enrollments::{
    ActiveEnrollment, BridgedEnrollment, DueEnrollment, EnrollmentToReplan, NewEnrollment, Replan, StepAdvance,
};
pub use escalations::{
    DueEscalation, EscalationAdvance, EscalationEvent, EscalationPage, EscalationView, EventView, NoticeView,
    UnseenNotice, UnseenOutcome,
};
pub use import::ImportRow;
pub use inbound::{AckOutcome, InboundGroup, InboundTx, NewInbound, QueuedWork, Sender, StaffMember, reference};
pub use oncall::NewRotation;
pub use outbox::{ClaimedText, NewText, OpenCrisis, SentRecord, TextRecord};
pub use reminders::{AppointmentView, DueMedication, NewMedication, OpenPrompt, ReminderDraft, TaskView};
pub use safety_plans::SafetyPlanVersion;
pub use signals::{NewSignal, SignalView};
pub use staff::StaffRecord;

/// The kinds of text that are caring: the cadence's and the bridge's check-ins. Engagement figures and the
/// gone-quiet signal count these.
pub(crate) const CARING_KINDS: &str = "('caring_contact', 'bridge_check_in')";

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    /// A unique rule refused the write.
    #[error("conflicts with an existing row ({0:?})")]
    Conflict(UniqueConstraint),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Stored data this binary cannot read (a hand-edited row, say).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A grouped commit failed; every caller in the group gets the same message.
    #[error("grouped commit failed: {0}")]
    GroupCommit(String),
}

/// The unique rules a write can break, so callers match on a type rather than on a constraint's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueConstraint {
    ClientPhone,
    ApiTokenHash,
    CatalogVersion,
    StaffPhone,
    OneActiveEnrollmentPerSchedule,
    RotationName,
    /// A client's number is a staff member's, or the other way round: texts from it could not be told apart.
    PhoneOfTheOtherKind,
    /// Two saves of one client's safety plan took the same version number at the same moment.
    SafetyPlanVersion,
}

impl UniqueConstraint {
    /// The database constraints, with the name PostgreSQL reports and the columns SQLite reports instead.
    const IN_THE_SCHEMA: [(UniqueConstraint, &'static str, &'static str); 7] = [
        (UniqueConstraint::ClientPhone, "clients_phone_key", "clients.phone"),
        (
            UniqueConstraint::ApiTokenHash,
            "api_tokens_hash_key",
            "api_tokens.token_hash",
        ),
        (
            UniqueConstraint::CatalogVersion,
            "catalog_versions_pkey",
            "catalog_versions.version",
        ),
        (UniqueConstraint::StaffPhone, "staff_phone_key", "staff.phone"),
        (
            UniqueConstraint::OneActiveEnrollmentPerSchedule,
            "enrollments_one_active_per_schedule",
            "enrollments.client_id, enrollments.schedule",
        ),
        (UniqueConstraint::RotationName, "rotations_name_key", "rotations.name"),
        (
            UniqueConstraint::SafetyPlanVersion,
            "safety_plans_client_version_key",
            "safety_plans.client_id, safety_plans.version",
        ),
    ];
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            let message = db.message();
            let constraint = db.constraint();
            for (rule, name, sqlite_columns) in UniqueConstraint::IN_THE_SCHEMA {
                if constraint == Some(name) || message.ends_with(sqlite_columns) {
                    return StoreError::Conflict(rule);
                }
            }
        }
        StoreError::Database(err)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// All persistent state. Cheap to clone: clones share the pools.
#[derive(Clone, Debug)]
pub struct Store {
    /// Reads, and on PostgreSQL writes too.
    pool: AnyPool,
    /// Every write. On SQLite a pool of one connection, so writers queue here and are woken in turn: if they
    /// met at SQLite's write lock instead, its busy handler would retry after sleeping, and under the
    /// inbound bench those sleeps stalled the writer that had just been turned away (BENCHMARKS.md, fourth
    /// round). On PostgreSQL, which runs writers side by side, the same pool as reads.
    writer: AnyPool,
    backend: Backend,
    /// Names this process in its claims, so others can release them if it dies (see [`Store::instance`]).
    instance: std::sync::Arc<str>,
}

fn new_instance_id() -> std::sync::Arc<str> {
    format!("{:0width$x}", fastrand::u64(..), width = instances::INSTANCE_ID_LEN).into()
}

impl Store {
    /// Connects to `url`, creating a SQLite file if it does not exist yet. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            // Without mode=rwc SQLite refuses to create the file on first start.
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        match backend {
            Backend::Sqlite => {
                // The writer connects first: it is the one that may create the file.
                let writer = connect_pool(&options, backend, 1).await?;
                let pool = connect_pool(&options, backend, 8).await?;
                Ok(Self {
                    pool,
                    writer,
                    backend,
                    instance: new_instance_id(),
                })
            }
            Backend::Postgres => {
                // PostgreSQL's default limit is 100 connections shared by every instance, so each takes a
                // modest share.
                let pool = connect_pool(&options, backend, 10).await?;
                Ok(Self {
                    writer: pool.clone(),
                    pool,
                    backend,
                    instance: new_instance_id(),
                })
            }
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.writer).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.writer).await?,
        }
        Ok(())
    }

    /// The newest migration version this binary knows; `tether migrate` reports it.
    pub fn latest_migration(&self) -> i64 {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Answers whether the database takes queries, for the health check.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Bytes the PostgreSQL database takes on disk (SQLite callers measure the file instead).
    pub async fn database_size(&self) -> Result<u64> {
        let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(size).unwrap_or(0))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

async fn connect_pool(options: &AnyConnectOptions, backend: Backend, connections: u32) -> Result<AnyPool> {
    let pool = AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers run beside the writer. synchronous=FULL makes every commit durable even
                    // on power loss: an acknowledged inbound crisis text must survive. busy_timeout still
                    // matters: another process (`tether` commands beside a running service) may hold the lock.
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options.clone())
        .await?;
    Ok(pool)
}

fn unix(at: Timestamp) -> i64 {
    at.as_second()
}

fn instant(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn optional_instant(seconds: Option<i64>) -> Option<Timestamp> {
    seconds.map(instant)
}

/// Statements over many rows (a group of inbound texts, of acceptances) take them in chunks of a power of
/// two, at most this many: few distinct statements to prepare and cache, whatever the group's size.
const MOST_PER_STATEMENT: usize = 64;

/// `items` in chunks of 64, 32, 16 … 1, largest first.
pub(super) fn in_chunks<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let size = MOST_PER_STATEMENT.min(1 << items.len().ilog2());
        let (chunk, rest) = items.split_at(size);
        items = rest;
        Some(chunk)
    })
}

/// `($1, $2, $3), ($4, $5, $6)` for `rows` rows of `columns` parameters each.
pub(super) fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let parameters = (1..=columns).map(|c| format!("${}", row * columns + c));
            format!("({})", parameters.collect::<Vec<_>>().join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_apply_the_same_migration_versions() {
        let versions = |m: &Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(&SQLITE_MIGRATIONS), versions(&POSTGRES_MIGRATIONS));
    }

    #[test]
    fn only_sqlite_and_postgres_urls_are_accepted() {
        assert_eq!(Backend::from_url("sqlite://tether.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://localhost/tether").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://localhost/tether").is_err());
    }

    #[test]
    fn groups_are_written_in_power_of_two_chunks() {
        let sizes = |n: usize| in_chunks(&vec![0; n]).map(<[i32]>::len).collect::<Vec<_>>();
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(37), [32, 4, 1]);
        assert_eq!(sizes(64), [64]);
        assert_eq!(sizes(150), [64, 64, 16, 4, 2]);
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
