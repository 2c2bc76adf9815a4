-- Payment instructions (the OXXO voucher, the SPEI transfer details), the
-- provider's payment id (for refunds), when the healing sweep asks about an
-- attempt next, SPEI as a method; the refund of overpayments (SQLite).
--
-- SQLite cannot change a CHECK constraint in place, so payment_attempts is
-- rebuilt, and overpayments (its only child) with it, inside the migration's
-- transaction with foreign keys on: the new child refers to the new parent,
-- both old tables are dropped (child first, so no row is ever orphaned),
-- and renaming the new parent rewrites the child's reference.

CREATE TABLE payment_attempts_new (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES payment_orders (id),
    provider         TEXT    NOT NULL CHECK (provider IN ('demo', 'stripe')),
    provider_ref     TEXT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    method           TEXT    CHECK (method IN ('card', 'oxxo', 'spei')),
    -- What the citizen needs to pay an asynchronous method, as JSON
    -- (`payments::Instructions`): the OXXO voucher or the SPEI transfer.
    instructions     TEXT,
    -- The voucher's (or transfer's) deadline, when the provider gives one.
    pay_before       TEXT,
    -- The provider's payment id (Stripe's PaymentIntent), for refunds.
    payment_intent   TEXT,
    -- When the healing sweep asks the provider about this attempt next
    -- (NULL: as soon as it is old enough).
    next_check_at    TEXT,
    status           TEXT    NOT NULL
        CHECK (status IN ('pending', 'succeeded', 'failed', 'expired', 'cancelled', 'refunded', 'overpaid')),
    amount_centavos  INTEGER NOT NULL CHECK (amount_centavos >= 0),
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    UNIQUE (provider, provider_ref)
);

INSERT INTO payment_attempts_new
    (id, order_id, provider, provider_ref, idempotency_key, method, instructions, status,
     amount_centavos, created_at, updated_at)
SELECT id, order_id, provider, provider_ref, idempotency_key, method,
       CASE WHEN voucher_reference IS NULL THEN NULL
            ELSE json_object('method', 'oxxo', 'number', voucher_reference) END,
       status, amount_centavos, created_at, updated_at
FROM payment_attempts;

-- Money that arrived for an order that was already closed (or paid by another
-- attempt): never applied to the charges, to be refunded. One per attempt.
-- refund_status: to_refund (recorded; refunded by hand, or automatically
-- when configured), refunded (the provider's refund id in refund_ref),
-- refund_failed (the provider's answer in refund_error; retried).
CREATE TABLE overpayments_new (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES payment_orders (id),
    attempt_id      INTEGER NOT NULL UNIQUE REFERENCES payment_attempts_new (id),
    amount_centavos INTEGER NOT NULL,
    reason          TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    refund_status   TEXT    NOT NULL DEFAULT 'to_refund'
        CHECK (refund_status IN ('to_refund', 'refunded', 'refund_failed')),
    refund_ref      TEXT,
    refund_error    TEXT,
    refunded_at     TEXT
);

INSERT INTO overpayments_new (id, order_id, attempt_id, amount_centavos, reason, created_at)
SELECT id, order_id, attempt_id, amount_centavos, reason, created_at FROM overpayments;

DROP TABLE overpayments;
DROP TABLE payment_attempts;
ALTER TABLE payment_attempts_new RENAME TO payment_attempts;
ALTER TABLE overpayments_new RENAME TO overpayments;

CREATE INDEX payment_attempts_by_order ON payment_attempts (order_id, id);

-- At most one attempt of an order succeeds.
CREATE UNIQUE INDEX payment_attempts_one_success ON payment_attempts (order_id)
    WHERE status = 'succeeded';

-- What the healing sweep reads.
CREATE INDEX payment_attempts_pending ON payment_attempts (provider, created_at)
    WHERE status = 'pending';
