-- 0006: a PO number is unique per account, enforced by the database too
-- (the order's own commit also checks it, so a resumed placement cannot
-- reuse a PO number another order took meanwhile).
CREATE UNIQUE INDEX orders_account_po ON orders (account_id, po_number) WHERE po_number IS NOT NULL;
