-- 0004: the balance ledger (credit, prepaid, contract), a capture lock on
-- authorizations, job leases and alerts.

-- Every change of a balance, signed, so support can explain any balance:
-- credit: + reserves credit (creditUsed grows), - releases it;
-- prepaid and contract: - debits, + refunds.
CREATE TABLE balance_ledger (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  contract_id TEXT REFERENCES contracts(id),
  kind TEXT NOT NULL,
  amount BIGINT NOT NULL,
  entry TEXT NOT NULL,
  session_id TEXT,
  order_id TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX balance_ledger_account ON balance_ledger (account_id, id);
CREATE INDEX balance_ledger_session ON balance_ledger (session_id);

-- One capture at a time per authorization, across nodes.
ALTER TABLE payment_authorizations ADD COLUMN lock_owner TEXT;
ALTER TABLE payment_authorizations ADD COLUMN lock_until BIGINT NOT NULL DEFAULT 0;

-- Background jobs: one node runs a job at a time, under a lease row.
CREATE TABLE job_leases (
  name TEXT PRIMARY KEY,
  owner TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0,
  last_run_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO job_leases (name) VALUES ('sweeper');
INSERT INTO job_leases (name) VALUES ('sla-monitor');

CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX alerts_kind_subject ON alerts (kind, subject_id);
