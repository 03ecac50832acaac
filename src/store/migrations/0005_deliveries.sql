-- 0005: one delivery per (event, subscriber), retried with backoff until
-- Delivered or Dead. A delivery is a row, so a restart resumes it.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL REFERENCES outbox_events(id),
  subscriber_id TEXT NOT NULL REFERENCES subscribers(id),
  order_id TEXT,
  event_type TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT,
  lease_owner TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  delivered_at BIGINT,
  UNIQUE (event_id, subscriber_id)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_order ON deliveries (order_id);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id, status);
