-- A console session remembers the SHA-256 of the token that opened it (like api_tokens.token_hash), so a
-- changed TETHER_ADMIN_TOKEN or a revoked token ends it. Sessions opened before this have none and end.
ALTER TABLE console_sessions ADD COLUMN token_fingerprint TEXT;
