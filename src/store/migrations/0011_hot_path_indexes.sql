-- Indexes the placement's reads lacked (found with EXPLAIN QUERY PLAN over
-- every statement of a checkout journey): without them each placement
-- scanned every order line summary ever made (the fulfillment order's view
-- joins them by order item), and each pricing step a store's promotions.
CREATE INDEX order_item_summaries_item ON order_item_summaries (order_item_id);
CREATE INDEX promotions_store ON promotions (store_id, min_subtotal);
-- The order view's holds (by order or by session: with this index the OR
-- is two index searches, not a walk of every hold), and a fulfillment
-- order's fulfilments.
CREATE INDEX payment_authorizations_order ON payment_authorizations (order_id);
CREATE INDEX order_changes_fo ON order_changes (fulfillment_order_id, kind);
