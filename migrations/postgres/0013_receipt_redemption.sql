-- "Entregar / canjear" at the cashier's desk: when, by whom and where a
-- receipt (later also a permit) was redeemed. Set once: a second
-- redemption is refused and shows these.
ALTER TABLE receipts ADD COLUMN redeemed_at TIMESTAMPTZ;
ALTER TABLE receipts ADD COLUMN redeemed_by TEXT;
ALTER TABLE receipts ADD COLUMN redeemed_where TEXT;
