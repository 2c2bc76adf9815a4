-- Payment orders (órdenes de pago) with their frozen quote and every status
-- transition (PostgreSQL).

CREATE TABLE payment_orders (
    id                BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference         TEXT        NOT NULL UNIQUE CHECK (char_length(reference) = 16),
    status            TEXT        NOT NULL
        CHECK (status IN ('created', 'pending', 'succeeded', 'failed', 'expired', 'cancelled', 'refunded')),
    subtotal_centavos BIGINT      NOT NULL,
    rounding_centavos BIGINT      NOT NULL,
    total_centavos    BIGINT      NOT NULL CHECK (total_centavos >= 0),
    currency          TEXT        NOT NULL DEFAULT 'MXN' CHECK (currency = 'MXN'),
    method_hint       TEXT,
    expires_at        TIMESTAMPTZ NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    requoted_from     BIGINT      REFERENCES payment_orders (id)
);

-- What the lazy expiry sweep reads.
CREATE INDEX payment_orders_live_by_expiry ON payment_orders (expires_at)
    WHERE status IN ('created', 'pending');

-- The frozen quote: one row per charge, in the order the quote listed them.
CREATE TABLE payment_order_items (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id           BIGINT NOT NULL REFERENCES payment_orders (id),
    charge_id          BIGINT NOT NULL REFERENCES charges (id),
    account            TEXT   NOT NULL,
    concept            TEXT   NOT NULL,
    period             TEXT   NOT NULL,
    due_date           DATE   NOT NULL,
    principal_centavos BIGINT NOT NULL,
    recargos_centavos  BIGINT NOT NULL,
    discount_centavos  BIGINT NOT NULL,
    total_centavos     BIGINT NOT NULL,
    UNIQUE (order_id, charge_id)
);

-- Every status change, with its timestamp (from_status NULL: the creation).
CREATE TABLE payment_transitions (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    BIGINT      NOT NULL REFERENCES payment_orders (id),
    from_status TEXT,
    to_status   TEXT        NOT NULL,
    event       TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX payment_transitions_by_order ON payment_transitions (order_id, id);

-- "The same charges cannot sit in two live orders", enforced by the database:
-- a row per charge of every live (created/pending) order, inserted in the
-- transaction that creates the order and deleted when the order leaves the
-- live statuses. A second order for the same charge violates the primary key.
CREATE TABLE live_order_charges (
    charge_id BIGINT PRIMARY KEY REFERENCES charges (id),
    order_id  BIGINT NOT NULL REFERENCES payment_orders (id)
);

CREATE INDEX live_order_charges_by_order ON live_order_charges (order_id);
