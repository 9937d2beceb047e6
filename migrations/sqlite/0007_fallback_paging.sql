-- A crisis never pages nobody: numbers from TETHER_FALLBACK_PAGE_TO are staff rows marked `fallback`, paged
-- when the escalation policy yields nobody reachable or runs out unacknowledged. Kept in step with the
-- setting at every start (src/storage/staff.rs), so acknowledging by SMS, STOP and the escalation log treat
-- them like anyone on staff.
ALTER TABLE staff ADD COLUMN fallback INTEGER NOT NULL DEFAULT 0;

-- Set while an open escalation has fallen to the fallback numbers: `exhausted` when every step was paged
-- (repeats included) and nobody acknowledged, `unreachable` when nobody in the policy could be paged at all.
-- It stays set after an acknowledgement, as a record; the console highlights only open ones.
ALTER TABLE escalations ADD COLUMN exhausted_at INTEGER;
ALTER TABLE escalations ADD COLUMN exhausted_reason TEXT
    CONSTRAINT escalations_exhausted_reason_check CHECK (exhausted_reason IN ('exhausted', 'unreachable'));
