-- 0010: after the order (API.md "Fulfillment, cancellation and returns"):
-- fulfillment orders, the changes made to an order after checkout
-- (fulfilments, cancellations, returns, manual captures), refunds, and the
-- money each unit carries.

-- One fulfillment order per released order. Its lines are the order's
-- item summaries (quantities fulfilled and cancelled live there, once);
-- status is kept here so that the warehouse can list by it.
CREATE TABLE fulfillment_orders (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL UNIQUE REFERENCES orders(id),
  store_id TEXT NOT NULL REFERENCES stores(id),
  status TEXT NOT NULL CHECK (status IN ('Allocated', 'PartiallyFulfilled', 'Fulfilled', 'Cancelled')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX fulfillment_orders_store ON fulfillment_orders (store_id, id);
CREATE INDEX fulfillment_orders_status ON fulfillment_orders (status, id);

-- The money the units of a line carried away so far: the shares of the
-- units fulfilled, cancelled and returned (API.md's share rule). Their
-- sums per line never pass the line's total.
ALTER TABLE order_item_summaries ADD COLUMN amount_fulfilled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_item_summaries ADD COLUMN amount_cancelled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_item_summaries ADD COLUMN amount_returned BIGINT NOT NULL DEFAULT 0;

-- Where the order's shipping went: 'open', 'fulfilled' (with the first
-- fulfilment) or 'cancelled' (every unit cancelled, none ever fulfilled).
ALTER TABLE orders ADD COLUMN shipping_state TEXT NOT NULL DEFAULT 'open';

-- The part of a card hold that will never be captured (cancelled units).
-- amount = captured_amount + voided_amount + what can still be captured.
-- rest_released: once no unit is left to fulfil, the uncaptured rest was
-- given up (voided at the gateway), once.
ALTER TABLE payment_authorizations ADD COLUMN voided_amount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment_authorizations ADD COLUMN rest_released INTEGER NOT NULL DEFAULT 0;

-- Every change to an order after checkout. A change that needs the
-- gateway is written Pending first, with its amounts and gateway keys
-- fixed, then the gateway is called, then one commit applies it
-- (Completed) or records that the gateway refused it (Failed). At most one
-- change of an order is Pending: every later change of the order first
-- completes it (the same gateway key gets the gateway's first answer), so
-- a crash between the gateway and the commit never loses or repeats money.
-- A Pending change is leased (lease_owner until lease_until) by the caller
-- driving it; another caller waits for it, and takes it over only once the
-- lease has run out (its caller died: SQLite start-up clears the leases at
-- once). request_key: the caller's Idempotency-Key (with its user), so a
-- retry finds the change it made. fingerprint: a hash of what was asked
-- (kind, target, items, tracking number, amount): a request identical to a
-- Pending change whose caller died is taken for its retry.
CREATE TABLE order_changes (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  fulfillment_order_id TEXT REFERENCES fulfillment_orders(id),
  kind TEXT NOT NULL CHECK (kind IN ('fulfill', 'cancel', 'return', 'capture')),
  seq BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('Pending', 'Completed', 'Failed')),
  request_key TEXT UNIQUE,
  fingerprint TEXT NOT NULL,
  tracking_number TEXT,
  amount BIGINT NOT NULL CHECK (amount >= 0),
  takes_shipping INTEGER NOT NULL DEFAULT 0,
  authorization_id TEXT REFERENCES payment_authorizations(id),
  capture_amount BIGINT NOT NULL DEFAULT 0 CHECK (capture_amount >= 0),
  capture_key TEXT UNIQUE,
  void_amount BIGINT NOT NULL DEFAULT 0 CHECK (void_amount >= 0),
  balance_amount BIGINT NOT NULL DEFAULT 0 CHECK (balance_amount >= 0),
  payment_id TEXT REFERENCES payments(id),
  error_code TEXT,
  lease_owner TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (order_id, kind, seq)
);
CREATE UNIQUE INDEX order_changes_one_pending ON order_changes (order_id) WHERE status = 'Pending';
CREATE INDEX order_changes_order ON order_changes (order_id, id);
CREATE INDEX order_changes_status ON order_changes (status, updated_at);

-- The units a change moved, with their share of the money.
CREATE TABLE order_change_items (
  change_id TEXT NOT NULL REFERENCES order_changes(id),
  order_item_id TEXT NOT NULL REFERENCES order_items(id),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  amount BIGINT NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (change_id, order_item_id)
);

-- Money given back after a capture (card: one row per payment refunded,
-- through the gateway's refund) or to a balance (payment_id NULL).
CREATE TABLE refunds (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  change_id TEXT NOT NULL REFERENCES order_changes(id),
  payment_id TEXT REFERENCES payments(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  status TEXT NOT NULL CHECK (status IN ('Pending', 'Completed', 'Failed')),
  idempotency_key TEXT UNIQUE,
  gateway_refund_id TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id, id);
CREATE INDEX refunds_change ON refunds (change_id);
CREATE INDEX refunds_payment ON refunds (payment_id);

-- Orders released before this migration get their fulfillment order now
-- (no FulfillmentOrderCreated event is sent for them: the warehouse heard
-- of them through OrderReleased). The id keeps the order's time part.
INSERT INTO fulfillment_orders (id, order_id, store_id, status, created_at, updated_at)
SELECT 'fo_' || substr(o.id, 5), o.id, o.store_id, 'Allocated', o.updated_at, o.updated_at
  FROM orders o
 WHERE o.status = 'Activated';
