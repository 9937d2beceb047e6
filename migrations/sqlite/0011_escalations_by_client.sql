-- Who may read a client's words and text them is decided per request from the client's escalations (who was
-- paged, who took it, when it was resolved; src/access.rs), so they are looked up by client.
CREATE INDEX escalations_by_client ON escalations (client_id, resolved_at);
