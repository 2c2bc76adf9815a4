-- Payment attempts (one per checkout started), provider events seen (for
-- dedupe) and overpayments to refund (SQLite).

CREATE TABLE payment_attempts (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES payment_orders (id),
    provider          TEXT    NOT NULL CHECK (provider IN ('demo', 'stripe')),
    provider_ref      TEXT,
    idempotency_key   TEXT    NOT NULL UNIQUE,
    method            TEXT    CHECK (method IN ('card', 'oxxo')),
    voucher_reference TEXT,
    status            TEXT    NOT NULL
        CHECK (status IN ('pending', 'succeeded', 'failed', 'expired', 'cancelled', 'refunded', 'overpaid')),
    amount_centavos   INTEGER NOT NULL CHECK (amount_centavos >= 0),
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (provider, provider_ref)
);

CREATE INDEX payment_attempts_by_order ON payment_attempts (order_id, id);

-- At most one attempt of an order succeeds.
CREATE UNIQUE INDEX payment_attempts_one_success ON payment_attempts (order_id)
    WHERE status = 'succeeded';

-- Every provider event applied (or refused as a repeat): (provider, event_id)
-- is written in the transaction that applies the event, so a redelivery finds
-- it and changes nothing.
CREATE TABLE provider_events (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- Money that arrived for an order that was already closed (or paid by another
-- attempt): never applied to the charges, to be refunded. One per attempt.
CREATE TABLE overpayments (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES payment_orders (id),
    attempt_id      INTEGER NOT NULL UNIQUE REFERENCES payment_attempts (id),
    amount_centavos INTEGER NOT NULL,
    reason          TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);
