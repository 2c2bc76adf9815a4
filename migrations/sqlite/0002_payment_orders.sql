-- Payment orders (órdenes de pago) with their frozen quote and every status
-- transition (SQLite). Timestamps are RFC 3339 UTC text with microseconds
-- ("2026-11-22T07:00:00.000000Z"): fixed width, so they compare as text.

CREATE TABLE payment_orders (
    id                INTEGER PRIMARY KEY,
    reference         TEXT    NOT NULL UNIQUE CHECK (length(reference) = 16),
    status            TEXT    NOT NULL
        CHECK (status IN ('created', 'pending', 'succeeded', 'failed', 'expired', 'cancelled', 'refunded')),
    subtotal_centavos INTEGER NOT NULL,
    rounding_centavos INTEGER NOT NULL,
    total_centavos    INTEGER NOT NULL CHECK (total_centavos >= 0),
    currency          TEXT    NOT NULL DEFAULT 'MXN' CHECK (currency = 'MXN'),
    method_hint       TEXT,
    expires_at        TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    requoted_from     INTEGER REFERENCES payment_orders (id)
);

-- What the lazy expiry sweep reads.
CREATE INDEX payment_orders_live_by_expiry ON payment_orders (expires_at)
    WHERE status IN ('created', 'pending');

-- The frozen quote: one row per charge, in the order the quote listed them.
CREATE TABLE payment_order_items (
    id                 INTEGER PRIMARY KEY,
    order_id           INTEGER NOT NULL REFERENCES payment_orders (id),
    charge_id          INTEGER NOT NULL REFERENCES charges (id),
    account            TEXT    NOT NULL,
    concept            TEXT    NOT NULL,
    period             TEXT    NOT NULL,
    due_date           TEXT    NOT NULL,
    principal_centavos INTEGER NOT NULL,
    recargos_centavos  INTEGER NOT NULL,
    discount_centavos  INTEGER NOT NULL,
    total_centavos     INTEGER NOT NULL,
    UNIQUE (order_id, charge_id)
);

-- Every status change, with its timestamp (from_status NULL: the creation).
CREATE TABLE payment_transitions (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES payment_orders (id),
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    at          TEXT    NOT NULL
);

CREATE INDEX payment_transitions_by_order ON payment_transitions (order_id, id);

-- "The same charges cannot sit in two live orders", enforced by the database:
-- a row per charge of every live (created/pending) order, inserted in the
-- transaction that creates the order and deleted when the order leaves the
-- live statuses. A second order for the same charge violates the primary key.
CREATE TABLE live_order_charges (
    charge_id INTEGER PRIMARY KEY REFERENCES charges (id),
    order_id  INTEGER NOT NULL REFERENCES payment_orders (id)
);

CREATE INDEX live_order_charges_by_order ON live_order_charges (order_id);
