-- Appointment and medication reminders, the prompts replies are matched against, tasks for staff, and
-- early-warning signals.

CREATE TABLE appointments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id       INTEGER NOT NULL REFERENCES clients (id),
    starts_at       INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'scheduled',
    -- Bumped on every move; part of each reminder's idempotency key.
    version         INTEGER NOT NULL DEFAULT 1,
    confirmed_at    INTEGER,
    reschedule_requested_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CONSTRAINT appointments_status_check CHECK (status IN ('scheduled', 'cancelled'))
);
CREATE INDEX appointments_by_client ON appointments (client_id, starts_at);

CREATE TABLE medications (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      INTEGER NOT NULL REFERENCES clients (id),
    -- 5-field cron pattern in the client's time zone.
    schedule       TEXT    NOT NULL,
    -- Words the client chose for the text; NULL sends the neutral text.
    phrase         TEXT,
    consented_at   INTEGER NOT NULL,
    consent_source TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'active',
    next_at        INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT medications_status_check CHECK (status IN ('active', 'stopped'))
);
CREATE INDEX medications_due ON medications (next_at) WHERE status = 'active';

ALTER TABLE outbox ADD COLUMN appointment_id INTEGER REFERENCES appointments (id);
ALTER TABLE outbox ADD COLUMN medication_id INTEGER REFERENCES medications (id);
CREATE INDEX outbox_by_appointment ON outbox (appointment_id);

-- A question a reminder asked; a reply within its window answers the latest open one of its kind.
CREATE TABLE prompts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      INTEGER NOT NULL REFERENCES clients (id),
    kind           TEXT    NOT NULL,
    appointment_id INTEGER REFERENCES appointments (id),
    medication_id  INTEGER REFERENCES medications (id),
    outbox_id      INTEGER NOT NULL REFERENCES outbox (id),
    opens_at       INTEGER NOT NULL,
    closes_at      INTEGER NOT NULL,
    answered_at    INTEGER,
    answer         TEXT,
    CONSTRAINT prompts_kind_check CHECK (kind IN ('appointment', 'medication')),
    CONSTRAINT prompts_outbox_key UNIQUE (outbox_id)
);
CREATE INDEX prompts_open ON prompts (client_id, closes_at) WHERE answered_at IS NULL;

CREATE TABLE tasks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      INTEGER REFERENCES clients (id),
    kind           TEXT    NOT NULL,
    inbound_id     INTEGER REFERENCES inbound_messages (id),
    appointment_id INTEGER REFERENCES appointments (id),
    detail         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    done_at        INTEGER
);
CREATE INDEX tasks_open ON tasks (created_at) WHERE done_at IS NULL;

CREATE TABLE signals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  INTEGER NOT NULL REFERENCES clients (id),
    rule       TEXT    NOT NULL,
    -- What the condition started from (the first unanswered text, the unconfirmed appointment…): a rule
    -- fires once per episode, not on every pass.
    episode    TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    staff_id   INTEGER REFERENCES staff (id),
    created_at INTEGER NOT NULL,
    seen_at    INTEGER,
    CONSTRAINT signals_episode_key UNIQUE (client_id, rule, episode)
);
