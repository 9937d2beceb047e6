-- Claiming due texts walks this index in the claim's own order (most urgent first, then oldest), so a claim
-- reads about as many entries as it takes instead of sorting every pending text: with 100,000 waiting, the
-- old (priority, send_at) index made each claim of 100 sort all of them.
CREATE INDEX outbox_pending_claim ON outbox (priority DESC, send_at) WHERE status = 'pending';
DROP INDEX outbox_pending_priority;
