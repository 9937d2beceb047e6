-- What an appointment is for (src/domain/appointment.rs): it picks the reminder's wording and offsets and
-- whether the appointment counts toward the follow-up figures. Appointments booked before kinds existed were
-- all clinic visits. The kinds are checked where they enter, not by a CHECK constraint, so a kind added later
-- needs no rebuild of the table in SQLite.
ALTER TABLE appointments ADD COLUMN kind TEXT NOT NULL DEFAULT 'clinic_visit';
