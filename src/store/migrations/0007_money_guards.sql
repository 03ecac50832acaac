-- 0007: a void decided before the gateway is called, and a ledger that
-- explains every balance.

-- void_pending = 1: a commit that found the session without an order decided
-- to void this hold. No order can take it from then on (create_order claims
-- only holds with void_pending = 0), and the gateway void runs after the
-- commit; until the gateway confirms it the status stays Authorized and the
-- sweeper retries it on every run.
ALTER TABLE payment_authorizations ADD COLUMN void_pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX payment_authorizations_void_pending ON payment_authorizations (void_pending, id);

-- Admin adjustments carry a memo (an invoice number, a reason).
ALTER TABLE balance_ledger ADD COLUMN memo TEXT;

-- Opening rows, so that the ledger reproduces every balance of a database
-- made before opening amounts and admin changes were written to it: the
-- difference between each balance and its ledger sum becomes one `adjust`
-- row, dated and keyed at the account's (or contract's) creation, so it
-- sorts before every other row of that account.
INSERT INTO balance_ledger (id, account_id, contract_id, kind, amount, entry, session_id, order_id, created_at, memo)
SELECT 'led_' || substr(a.id, 6), a.id, NULL, 'prepaid',
       a.prepaid_balance - COALESCE((SELECT SUM(l.amount) FROM balance_ledger l
                                     WHERE l.account_id = a.id AND l.kind = 'prepaid'), 0),
       'adjust', NULL, NULL, a.created_at, 'opening balance'
  FROM accounts a
 WHERE a.prepaid_balance <> COALESCE((SELECT SUM(l.amount) FROM balance_ledger l
                                      WHERE l.account_id = a.id AND l.kind = 'prepaid'), 0);

INSERT INTO balance_ledger (id, account_id, contract_id, kind, amount, entry, session_id, order_id, created_at, memo)
SELECT 'led_' || substr(c.id, 5), c.account_id, c.id, 'contract',
       c.remaining - COALESCE((SELECT SUM(l.amount) FROM balance_ledger l
                               WHERE l.contract_id = c.id AND l.kind = 'contract'), 0),
       'adjust', NULL, NULL, c.created_at, 'opening amount'
  FROM contracts c
 WHERE c.remaining <> COALESCE((SELECT SUM(l.amount) FROM balance_ledger l
                                WHERE l.contract_id = c.id AND l.kind = 'contract'), 0);
