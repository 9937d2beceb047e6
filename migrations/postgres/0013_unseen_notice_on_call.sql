-- A concern notice nobody has marked seen for TETHER_CONCERN_UNSEEN_HOURS is texted once to whoever is on
-- call (src/escalation/unseen.rs). Setting the outcome is the claim: the update that sets it only matches a
-- row where it is still empty, so two instances never both text it, and a restart never texts it again.
-- `on_call` (the policy's person on call), `fallback` (the TETHER_FALLBACK_PAGE_TO numbers), `nobody`
-- (logged as an error), or `before_upgrade`.
ALTER TABLE notices ADD COLUMN unseen_outcome TEXT;
ALTER TABLE notices ADD COLUMN unseen_handled_at BIGINT;
-- Notices left unseen for over a day when this rule arrives are old news to whoever is on call tonight; the
-- follow-up list still shows them.
UPDATE notices SET unseen_outcome = 'before_upgrade'
    WHERE seen_at IS NULL AND created_at < CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) - 86400;
CREATE INDEX notices_unseen_unhandled ON notices (created_at) WHERE seen_at IS NULL AND unseen_outcome IS NULL;
