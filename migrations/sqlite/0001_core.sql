-- Clients, staff, enrolments and the outbox. Instants are UTC unix seconds chosen by the application
-- (never now() in SQL) so that tests own the clock. Constraint names match the PostgreSQL migration; the
-- HTTP layer maps them to field errors.

CREATE TABLE clients (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    phone            TEXT    NOT NULL,
    first_name       TEXT    NOT NULL,
    language         TEXT    NOT NULL,
    timezone         TEXT    NOT NULL,
    consented_at     INTEGER,
    consent_source   TEXT,
    status           TEXT    NOT NULL DEFAULT 'active',
    opted_out_at     INTEGER,
    phone_invalid_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CONSTRAINT clients_phone_key UNIQUE (phone),
    CONSTRAINT clients_status_check CHECK (status IN ('active', 'paused', 'opted_out'))
);

CREATE TABLE staff (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    phone      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT staff_phone_key UNIQUE (phone)
);

CREATE TABLE enrollments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id        INTEGER NOT NULL REFERENCES clients (id),
    schedule         TEXT    NOT NULL,
    schedule_version INTEGER NOT NULL,
    discharged_at    INTEGER NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'active',
    -- Index into the schedule's steps of the next step to plan, and when it is due.
    next_step        INTEGER NOT NULL,
    next_send_at     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CONSTRAINT enrollments_status_check CHECK (status IN ('active', 'completed', 'cancelled'))
);

CREATE UNIQUE INDEX enrollments_one_active_per_schedule ON enrollments (client_id, schedule) WHERE status = 'active';
CREATE INDEX enrollments_due ON enrollments (next_send_at) WHERE status = 'active';

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id       INTEGER REFERENCES clients (id),
    enrollment_id   INTEGER REFERENCES enrollments (id),
    kind            TEXT    NOT NULL,
    -- Unique per planned text: enrolment, step and schedule version for caring contacts.
    idempotency_key TEXT    NOT NULL,
    to_phone        TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    template        TEXT,
    step            TEXT,
    -- When the text was meant to go; lateness is measured from here.
    planned_at      INTEGER NOT NULL,
    -- When the next attempt may go: planned_at at first, later after quiet hours or a retry backoff.
    send_at         INTEGER NOT NULL,
    expires_at      INTEGER,
    status          TEXT    NOT NULL DEFAULT 'pending',
    status_reason   TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     INTEGER,
    -- Random token of the claim that holds the lease, to read back exactly the rows one claim took.
    lease_owner     TEXT,
    provider_sid    TEXT,
    provider_status TEXT,
    provider_rank   INTEGER NOT NULL DEFAULT -1,
    error_code      INTEGER,
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CONSTRAINT outbox_idempotency_key UNIQUE (idempotency_key),
    CONSTRAINT outbox_provider_sid_key UNIQUE (provider_sid),
    CONSTRAINT outbox_status_check CHECK (status IN
        ('pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled', 'expired'))
);

CREATE INDEX outbox_pending_due ON outbox (send_at) WHERE status = 'pending';
CREATE INDEX outbox_sending_lease ON outbox (lease_until) WHERE status = 'sending';
CREATE INDEX outbox_lease_owner ON outbox (lease_owner) WHERE status = 'sending';
CREATE INDEX outbox_by_client ON outbox (client_id, planned_at);
