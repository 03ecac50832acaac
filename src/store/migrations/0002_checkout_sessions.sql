-- 0002: checkout sessions (CartCheckoutSession) and checkout requests.

CREATE TABLE checkout_sessions (
  id TEXT PRIMARY KEY,
  cart_id TEXT NOT NULL REFERENCES carts(id),
  buyer_id TEXT NOT NULL REFERENCES users(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  store_id TEXT NOT NULL REFERENCES stores(id),
  flow_id TEXT NOT NULL,
  flow_version BIGINT NOT NULL,
  state TEXT NOT NULL,
  last_successful_step TEXT,
  lease_owner TEXT,
  lease_expires_at BIGINT NOT NULL DEFAULT 0,
  is_error INTEGER NOT NULL DEFAULT 0,
  is_archived INTEGER NOT NULL DEFAULT 0,
  order_id TEXT,
  inputs_version BIGINT NOT NULL DEFAULT 0,
  inputs TEXT NOT NULL DEFAULT '{}',
  subtotal BIGINT NOT NULL DEFAULT 0,
  adjustments BIGINT NOT NULL DEFAULT 0,
  shipping BIGINT NOT NULL DEFAULT 0,
  tax BIGINT NOT NULL DEFAULT 0,
  grand_total BIGINT NOT NULL DEFAULT 0,
  errors TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
-- A cart has at most one unarchived session (get or create).
CREATE UNIQUE INDEX checkout_sessions_live_cart ON checkout_sessions (cart_id) WHERE is_archived = 0;
CREATE INDEX checkout_sessions_updated ON checkout_sessions (is_archived, updated_at);

CREATE TABLE checkout_requests (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  session_id TEXT,
  order_id TEXT,
  errors TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  completed_at BIGINT
);
CREATE INDEX checkout_requests_status ON checkout_requests (status);
