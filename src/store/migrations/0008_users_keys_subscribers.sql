-- 0008: operator basics: disabling users, rotating API keys with a grace
-- period, and changing or deleting subscribers.

-- A disabled user's keys are refused at once (401); nothing else about the
-- user changes, so enabling it again restores its access.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE users SET updated_at = created_at;

-- users.api_key_hash stays the user's current key. A key replaced by
-- POST /v1/users/{id}/keys with a grace period lives on here until
-- expires_at (milliseconds), then stops working. Only hashes, as for the
-- current key.
CREATE TABLE retired_api_keys (
  key_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX retired_api_keys_user ON retired_api_keys (user_id);

-- A deleted subscriber keeps its row (its deliveries still name it) with
-- deleted_at set; it is in no answer, gets no new deliveries, and its
-- undelivered ones are Cancelled in the commit that deletes it.
ALTER TABLE subscribers ADD COLUMN deleted_at BIGINT;
ALTER TABLE subscribers ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE subscribers SET updated_at = created_at;
