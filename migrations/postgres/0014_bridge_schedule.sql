-- The 72-hour bridge (message_templates/schedules/bridge.toml). A client who follows the bridge and another
-- schedule gets the other one only from `starts_on_day` on: the bridge's check-ins replace its first days.
-- The bridge sends two texts a day, which needs the client's own consent to more than one text a day; it is
-- recorded on the enrolment that needs it, with where it was given, like the consent on the client.
ALTER TABLE enrollments ADD COLUMN starts_on_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrollments ADD COLUMN several_daily_consented_at BIGINT;
ALTER TABLE enrollments ADD COLUMN several_daily_consent_source TEXT;
