-- 0003: orders and summaries, payment authorizations and captures, the
-- outbox, the built-in test gateway's own ledger, and the async request queue.

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  order_number TEXT NOT NULL UNIQUE,
  cart_id TEXT NOT NULL REFERENCES carts(id),
  session_id TEXT NOT NULL UNIQUE REFERENCES checkout_sessions(id),
  store_id TEXT NOT NULL REFERENCES stores(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  buyer_id TEXT NOT NULL REFERENCES users(id),
  status TEXT NOT NULL,
  currency TEXT NOT NULL,
  payment_method TEXT NOT NULL,
  po_number TEXT,
  subtotal BIGINT NOT NULL,
  adjustments BIGINT NOT NULL,
  shipping BIGINT NOT NULL,
  tax BIGINT NOT NULL,
  grand_total BIGINT NOT NULL,
  shipping_address TEXT NOT NULL,
  shipping_method_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX orders_account ON orders (account_id, id);

CREATE TABLE order_items (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  product_id TEXT NOT NULL REFERENCES products(id),
  sku TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price BIGINT NOT NULL,
  adjustment BIGINT NOT NULL,
  tax BIGINT NOT NULL,
  total BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX order_items_order ON order_items (order_id);

CREATE TABLE order_summaries (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL UNIQUE REFERENCES orders(id),
  created_at BIGINT NOT NULL
);

CREATE TABLE order_item_summaries (
  id TEXT PRIMARY KEY,
  summary_id TEXT NOT NULL REFERENCES order_summaries(id),
  order_item_id TEXT NOT NULL REFERENCES order_items(id),
  quantity_ordered BIGINT NOT NULL,
  quantity_fulfilled BIGINT NOT NULL DEFAULT 0,
  quantity_cancelled BIGINT NOT NULL DEFAULT 0,
  quantity_returned BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX order_item_summaries_summary ON order_item_summaries (summary_id);

-- One row per hold the gateway granted. idempotency_key is the one the
-- gateway saw, so a retry after a crash finds the same row.
CREATE TABLE payment_authorizations (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES checkout_sessions(id),
  order_id TEXT,
  method TEXT NOT NULL,
  gateway TEXT NOT NULL,
  gateway_auth_id TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount >= 0),
  captured_amount BIGINT NOT NULL DEFAULT 0 CHECK (captured_amount >= 0),
  status TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX payment_authorizations_session ON payment_authorizations (session_id);
CREATE INDEX payment_authorizations_status ON payment_authorizations (status);

CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  authorization_id TEXT NOT NULL REFERENCES payment_authorizations(id),
  order_id TEXT NOT NULL REFERENCES orders(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  gateway_payment_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
CREATE INDEX payments_order ON payments (order_id);

-- The transactional outbox: written in the same commit as the change it reports.
CREATE TABLE outbox_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  order_id TEXT REFERENCES orders(id),
  session_id TEXT,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  dispatched INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_events_pending ON outbox_events (dispatched, id);
CREATE INDEX outbox_events_order ON outbox_events (order_id);

-- The built-in test gateway keeps its own ledger, keyed by idempotency key,
-- like a real gateway: a retry finds the first answer.
CREATE TABLE gateway_test_ledger (
  idem_key TEXT PRIMARY KEY,
  op TEXT NOT NULL,
  result TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX gateway_test_ledger_ref ON gateway_test_ledger (ref_id);
CREATE INDEX gateway_test_ledger_op ON gateway_test_ledger (op);

-- Async placements: a Queued request is claimed by a runner with a lease.
ALTER TABLE checkout_requests ADD COLUMN runner TEXT;
ALTER TABLE checkout_requests ADD COLUMN run_lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE checkout_requests ADD COLUMN http_status BIGINT NOT NULL DEFAULT 0;
