-- What happens to money after it was applied: refunds and disputes
-- (chargebacks) reported by the provider (`charge.refunded`,
-- `charge.dispute.*`). One row per provider event; a full refund or a lost
-- dispute also cancels the receipt and reopens the charges (in the same
-- transaction); partial refunds and open disputes are listed for the
-- treasury (`recauda ajustes`).
CREATE TABLE payment_adjustments (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES payment_orders (id),
    attempt_id        INTEGER NOT NULL REFERENCES payment_attempts (id),
    kind              TEXT    NOT NULL
        CHECK (kind IN ('refund', 'partial_refund', 'dispute_opened', 'dispute_won', 'dispute_lost')),
    amount_centavos   INTEGER NOT NULL CHECK (amount_centavos >= 0),
    provider_ref      TEXT    NOT NULL,
    detail            TEXT,
    created_at        TEXT    NOT NULL
);
CREATE INDEX payment_adjustments_by_order ON payment_adjustments (order_id);
CREATE INDEX payment_attempts_by_payment_intent ON payment_attempts (payment_intent) WHERE payment_intent IS NOT NULL;
