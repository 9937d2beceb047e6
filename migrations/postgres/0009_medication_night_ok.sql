-- A medication reminder that fires inside quiet hours needs the client's explicit consent to reminders at
-- night, recorded on the reminder (docs/medication-reminders.md). Reminders created before this rule were
-- promised at the chosen time, so they keep it: they are marked as consented.
ALTER TABLE medications ADD COLUMN night_ok BIGINT NOT NULL DEFAULT 0;
UPDATE medications SET night_ok = 1;
