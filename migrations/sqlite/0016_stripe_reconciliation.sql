-- Reconciliation with Stripe (SQLite): the payouts Stripe sent to the
-- treasury's bank account and the balance transactions each one carries
-- (charges, refunds, disputes, fees), as fetched by a tesorero, each item
-- matched to a payment order when it can be (by the order's token in the
-- charge's metadata, else by the PaymentIntent). Rows are upserted by
-- Stripe's ids: fetching the same payout again changes nothing.

CREATE TABLE stripe_payouts (
    -- Stripe's id (po_…).
    id              TEXT    PRIMARY KEY,
    amount_centavos INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    -- paid, pending, in_transit, canceled, failed.
    status          TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    -- The day the money reaches the bank (YYYY-MM-DD, UTC as Stripe gives it).
    arrival_date    TEXT    NOT NULL,
    description     TEXT,
    fetched_at      TEXT    NOT NULL,
    fetched_by      TEXT    NOT NULL
);

CREATE INDEX stripe_payouts_by_created ON stripe_payouts (created_at);

-- One balance transaction of a payout (txn_…), the payout's own excepted.
CREATE TABLE stripe_payout_items (
    id              TEXT    PRIMARY KEY,
    payout_id       TEXT    NOT NULL REFERENCES stripe_payouts (id),
    -- Stripe's type (charge, payment, refund, adjustment, stripe_fee, …)
    -- and reporting category (charge, refund, dispute, fee, …).
    kind            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    amount_centavos INTEGER NOT NULL,
    fee_centavos    INTEGER NOT NULL,
    net_centavos    INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    -- The object that moved the money (ch_…, re_…, du_…) and its PaymentIntent.
    source_id       TEXT,
    payment_intent  TEXT,
    -- The order token the charge's metadata carries (as Stripe gave it),
    -- and the order it was matched to (NULL: not found in Recauda).
    order_token     TEXT,
    order_id        INTEGER REFERENCES payment_orders (id),
    description     TEXT
);

CREATE INDEX stripe_payout_items_by_payout ON stripe_payout_items (payout_id, created_at);
CREATE INDEX stripe_payout_items_by_intent ON stripe_payout_items (payment_intent);
CREATE INDEX stripe_payout_items_by_order ON stripe_payout_items (order_id);
CREATE INDEX stripe_payout_items_by_created ON stripe_payout_items (created_at);
