-- Each running process (instance) beats here every few seconds. The claims of an instance silent for longer
-- than the silence limit are released at once by any live instance, instead of waiting out their lease.
-- A claim names its instance: the first 16 characters of outbox.lease_owner are the instance id.
CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
