-- Who may call the API and the console (tokens with roles, console sessions), what they did (the audit
-- log), and the live versions of the message catalog (schedules and templates), which after the first
-- start live here rather than in message_templates/.

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    -- Staff tokens see only the clients assigned to this staff member.
    staff_id     INTEGER REFERENCES staff (id),
    -- SHA-256 of the token, hex; the token itself is shown once and never stored.
    token_hash   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'staff', 'viewer'))
);

CREATE TABLE console_sessions (
    -- SHA-256 of the cookie value, hex.
    id_hash    TEXT    PRIMARY KEY,
    token_id   INTEGER REFERENCES api_tokens (id),
    -- Set for sessions opened with the bootstrap TETHER_ADMIN_TOKEN, which has no row.
    bootstrap  INTEGER NOT NULL DEFAULT 0,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    -- Token name (or `bootstrap`, or `anonymous` for calls without a valid token).
    actor   TEXT    NOT NULL,
    role    TEXT,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    outcome TEXT    NOT NULL,
    status  INTEGER NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE catalog_versions (
    version    INTEGER PRIMARY KEY,
    -- The whole catalog as a JSON object from relative path (`schedules/caring_contacts.toml`) to contents.
    files      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    summary    TEXT    NOT NULL
);

-- A schedule edit looks up each enrolment's texts.
CREATE INDEX outbox_by_enrollment ON outbox (enrollment_id);
