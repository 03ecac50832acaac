-- 0001: stores, accounts, users and access, catalogue, carts, idempotency keys.
-- Portable SQL: BIGINT money and millisecond times, TEXT ids, INTEGER 0/1 flags.

CREATE TABLE stores (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  currency TEXT NOT NULL,
  sla_seconds BIGINT NOT NULL,
  stale_auth_seconds BIGINT NOT NULL,
  embargoed_countries TEXT NOT NULL DEFAULT '[]',
  active_flow_id TEXT NOT NULL DEFAULT 'flow_standard',
  gateway_kind TEXT NOT NULL DEFAULT 'test',
  gateway_url TEXT,
  gateway_secret TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  is_buyer INTEGER NOT NULL,
  credit_limit BIGINT NOT NULL,
  credit_used BIGINT NOT NULL DEFAULT 0 CHECK (credit_used >= 0),
  prepaid_balance BIGINT NOT NULL DEFAULT 0 CHECK (prepaid_balance >= 0),
  hazmat_approved INTEGER NOT NULL,
  country TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  permissions BIGINT NOT NULL,
  api_key_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);

CREATE TABLE store_members (
  store_id TEXT NOT NULL REFERENCES stores(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (store_id, account_id)
);

CREATE TABLE user_accounts (
  user_id TEXT NOT NULL REFERENCES users(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, account_id)
);

CREATE TABLE products (
  id TEXT PRIMARY KEY,
  store_id TEXT NOT NULL REFERENCES stores(id),
  sku TEXT NOT NULL,
  name TEXT NOT NULL,
  unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
  stock BIGINT NOT NULL CHECK (stock >= 0),
  min_quantity BIGINT NOT NULL,
  price_tiers TEXT NOT NULL DEFAULT '[]',
  hazmat INTEGER NOT NULL,
  export_controlled INTEGER NOT NULL,
  weight_grams BIGINT NOT NULL,
  active INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (store_id, sku)
);

CREATE TABLE shipping_methods (
  id TEXT PRIMARY KEY,
  store_id TEXT NOT NULL REFERENCES stores(id),
  name TEXT NOT NULL,
  flat_fee BIGINT NOT NULL,
  per_kg_fee BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE tax_rates (
  id TEXT PRIMARY KEY,
  store_id TEXT NOT NULL REFERENCES stores(id),
  country TEXT NOT NULL,
  rate_bp BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (store_id, country)
);

CREATE TABLE promotions (
  id TEXT PRIMARY KEY,
  store_id TEXT NOT NULL REFERENCES stores(id),
  name TEXT NOT NULL,
  min_subtotal BIGINT NOT NULL,
  percent_off_bp BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE contracts (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  amount BIGINT NOT NULL,
  remaining BIGINT NOT NULL CHECK (remaining >= 0),
  active INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE subscribers (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  url TEXT,
  secret TEXT,
  smtp_url TEXT,
  mail_from TEXT,
  events TEXT NOT NULL,
  max_attempts BIGINT NOT NULL,
  backoff_base_ms BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE carts (
  id TEXT PRIMARY KEY,
  store_id TEXT NOT NULL REFERENCES stores(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  owner_id TEXT NOT NULL REFERENCES users(id),
  status TEXT NOT NULL,
  currency TEXT NOT NULL,
  subtotal BIGINT NOT NULL DEFAULT 0,
  adjustments BIGINT NOT NULL DEFAULT 0,
  shipping BIGINT NOT NULL DEFAULT 0,
  tax BIGINT NOT NULL DEFAULT 0,
  grand_total BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX carts_account ON carts (account_id);

CREATE TABLE cart_items (
  id TEXT PRIMARY KEY,
  cart_id TEXT NOT NULL REFERENCES carts(id),
  product_id TEXT NOT NULL REFERENCES products(id),
  sku TEXT NOT NULL,
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  list_price BIGINT NOT NULL,
  sales_price BIGINT NOT NULL,
  adjustment BIGINT NOT NULL DEFAULT 0,
  tax BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (cart_id, product_id)
);

CREATE TABLE cart_validation_outputs (
  id TEXT PRIMARY KEY,
  cart_id TEXT NOT NULL REFERENCES carts(id),
  related_entity_id TEXT NOT NULL,
  type TEXT NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX cvo_cart ON cart_validation_outputs (cart_id);

CREATE TABLE idempotency_keys (
  user_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL,
  status BIGINT NOT NULL DEFAULT 0,
  body TEXT,
  locked_until BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);
