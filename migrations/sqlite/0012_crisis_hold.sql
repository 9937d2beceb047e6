-- While a client's crisis escalation is open (12 hours at most), their routine texts are held, not dropped
-- (docs/crisis-hold.md). The escalation that held a text is kept on it: its resolution releases exactly
-- those texts, and the client's thread says what was held and why, even after the text went.
ALTER TABLE outbox ADD COLUMN held_by_escalation INTEGER REFERENCES escalations (id);
CREATE INDEX outbox_held_by_escalation ON outbox (held_by_escalation) WHERE held_by_escalation IS NOT NULL;
