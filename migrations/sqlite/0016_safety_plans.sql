-- A client's safety plan (docs/safety-plan.md): every save is a new version row, with who saved it and when;
-- the newest version is the plan in force. The sections are one JSON document, checked by
-- src/domain/safety_plan.rs before it is written and again when it is read. The client's consent to get the
-- plan by text is recorded on the version it was given with, like the consent on the client.
CREATE TABLE safety_plans (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id                 INTEGER NOT NULL REFERENCES clients (id),
    version                   INTEGER NOT NULL,
    sections                  TEXT    NOT NULL,
    share_environment_by_text INTEGER NOT NULL DEFAULT 0,
    text_consented_at         INTEGER,
    text_consent_source       TEXT,
    saved_by                  TEXT    NOT NULL,
    saved_at                  INTEGER NOT NULL,
    CONSTRAINT safety_plans_client_version_key UNIQUE (client_id, version)
);

-- A text that must not reach the provider before another one has: the parts of a safety plan, which the
-- client has to read in order. The claim skips a row whose `follows` is still pending or being sent; it
-- finds that row by its primary key, so no index is needed.
ALTER TABLE outbox ADD COLUMN follows INTEGER REFERENCES outbox (id);
