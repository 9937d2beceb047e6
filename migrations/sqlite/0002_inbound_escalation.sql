-- Inbound texts, risk escalations with their paging record, concern notices, and the on-call set-up.

ALTER TABLE clients ADD COLUMN assigned_staff_id INTEGER REFERENCES staff (id);
ALTER TABLE staff ADD COLUMN opted_out_at INTEGER;

-- Higher goes first: crisis replies and pages are never queued behind a backlog of scheduled texts.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
-- Set for texts to staff (pages, notices), so a staff member's STOP is honoured at send time.
ALTER TABLE outbox ADD COLUMN staff_id INTEGER REFERENCES staff (id);
CREATE INDEX outbox_pending_priority ON outbox (priority, send_at) WHERE status = 'pending';

CREATE TABLE inbound_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_sid  TEXT    NOT NULL,
    from_phone   TEXT    NOT NULL,
    to_phone     TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    client_id    INTEGER REFERENCES clients (id),
    staff_id     INTEGER REFERENCES staff (id),
    risk_tier    TEXT    NOT NULL,
    -- JSON array of the lexicon matches, for review.
    risk_matches TEXT    NOT NULL,
    -- What the service did with it: opt_out, opt_in, help, ack, relay, forwarded, …
    action       TEXT    NOT NULL,
    opt_out_type TEXT,
    received_at  INTEGER NOT NULL,
    CONSTRAINT inbound_message_sid_key UNIQUE (message_sid),
    CONSTRAINT inbound_sender_check CHECK (sender IN ('client', 'staff', 'unknown')),
    CONSTRAINT inbound_risk_tier_check CHECK (risk_tier IN ('none', 'concern', 'crisis'))
);
CREATE INDEX inbound_by_client ON inbound_messages (client_id, received_at);
CREATE INDEX inbound_by_sender ON inbound_messages (from_phone, received_at);

CREATE TABLE escalations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Short reply code staff text back to acknowledge; unique among open escalations.
    code            TEXT    NOT NULL,
    inbound_id      INTEGER NOT NULL REFERENCES inbound_messages (id),
    client_id       INTEGER REFERENCES clients (id),
    from_phone      TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'open',
    -- Position in the escalation policy: which step of which pass over the steps pages next.
    step            INTEGER NOT NULL DEFAULT 0,
    round           INTEGER NOT NULL DEFAULT 0,
    next_action_at  INTEGER,
    -- Counts the steps that paged someone; a failed page moves the chain on only if it is the latest.
    page_batch      INTEGER NOT NULL DEFAULT 0,
    acknowledged_by INTEGER REFERENCES staff (id),
    acknowledged_at INTEGER,
    resolved_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CONSTRAINT escalations_inbound_key UNIQUE (inbound_id),
    CONSTRAINT escalations_status_check CHECK (status IN ('open', 'acknowledged', 'resolved'))
);
CREATE UNIQUE INDEX escalations_open_code ON escalations (code) WHERE status = 'open';
CREATE INDEX escalations_due ON escalations (next_action_at) WHERE status = 'open';

-- Everything that happened to an escalation, in order: pages, skipped steps, failures, acknowledgement.
CREATE TABLE escalation_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    escalation_id INTEGER NOT NULL REFERENCES escalations (id),
    kind          TEXT    NOT NULL,
    staff_id      INTEGER REFERENCES staff (id),
    outbox_id     INTEGER REFERENCES outbox (id),
    page_batch    INTEGER,
    detail        TEXT    NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX escalation_events_by_escalation ON escalation_events (escalation_id, id);
CREATE INDEX escalation_events_by_outbox ON escalation_events (outbox_id);

CREATE TABLE notices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    inbound_id INTEGER NOT NULL REFERENCES inbound_messages (id),
    client_id  INTEGER REFERENCES clients (id),
    staff_id   INTEGER REFERENCES staff (id),
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at    INTEGER,
    CONSTRAINT notices_inbound_key UNIQUE (inbound_id)
);
CREATE INDEX notices_unseen ON notices (created_at) WHERE seen_at IS NULL;

CREATE TABLE rotations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    timezone     TEXT    NOT NULL,
    -- A multiple of 24 hands off at the same local time every N days, across DST.
    shift_hours  INTEGER NOT NULL,
    handoff_time TEXT    NOT NULL,
    start_date   TEXT    NOT NULL,
    -- JSON array of staff ids in rotation order.
    members      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    CONSTRAINT rotations_name_key UNIQUE (name)
);

CREATE TABLE overrides (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rotation_id INTEGER NOT NULL REFERENCES rotations (id),
    staff_id    INTEGER NOT NULL REFERENCES staff (id),
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX overrides_by_rotation ON overrides (rotation_id, starts_at);

-- The one escalation policy, as JSON: steps (who, how long to wait) and how many times to repeat them.
CREATE TABLE escalation_policy (
    id         INTEGER PRIMARY KEY,
    policy     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT escalation_policy_single CHECK (id = 1)
);
