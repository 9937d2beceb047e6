-- Automatic crisis, concern and unknown-sender replies are limited per number ("at most one in 12 hours"),
-- counted over the outbox by recipient. Without this index every such reply scanned the whole outbox, which
-- holds a year of texts for every client: the crisis path slowed down as the program grew.
CREATE INDEX outbox_replies_to ON outbox (to_phone, kind, planned_at);
