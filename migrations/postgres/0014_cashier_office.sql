-- The cashier office (PostgreSQL): an order's payment may be annulled by
-- the treasury ("annulled": a bounced cheque, a receipt cancellation
-- approved by a second person); tills and their sessions with the blind
-- corte de caja; payments taken at the window; cancellation requests.

ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_status_check;
ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_status_check
    CHECK (status IN ('created', 'pending', 'succeeded', 'failed', 'expired', 'cancelled', 'refunded', 'annulled'));

-- A till session: one cajero at one till (its code in the municipality
-- file, which is also its folio series) from the opening float to the
-- approved corte. status: open (takes payments), counted (the blind count
-- is in with a difference awaiting the tesorero; the till is locked),
-- closed (balanced, or approved). The expected figures are frozen when the
-- count is entered, and only then shown.
CREATE TABLE till_sessions (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    till                      TEXT    NOT NULL,
    cashier                   TEXT    NOT NULL,
    status                    TEXT    NOT NULL CHECK (status IN ('open', 'counted', 'closed')),
    opening_float_centavos    BIGINT  NOT NULL CHECK (opening_float_centavos >= 0),
    opened_at                 TIMESTAMPTZ NOT NULL,
    counted_at                TIMESTAMPTZ,
    -- The cash counted by denomination (JSON: {"50000": 3, ...}, centavos → pieces).
    denominations             TEXT,
    counted_cash_centavos     BIGINT,
    counted_card_centavos     BIGINT,
    counted_cheque_centavos   BIGINT,
    counted_transfer_centavos BIGINT,
    expected_cash_centavos    BIGINT,
    expected_card_centavos    BIGINT,
    expected_cheque_centavos  BIGINT,
    expected_transfer_centavos BIGINT,
    explanation               TEXT,
    approved_by               TEXT,
    approved_at               TIMESTAMPTZ,
    approval_note             TEXT,
    closed_at                 TIMESTAMPTZ,
    CHECK ((status = 'open') = (counted_at IS NULL))
);

-- A till takes one session at a time (locked until its corte is closed);
-- a cajero works one open till at a time.
CREATE UNIQUE INDEX till_sessions_one_per_till ON till_sessions (till) WHERE status <> 'closed';
CREATE UNIQUE INDEX till_sessions_one_open_per_cashier ON till_sessions (cashier) WHERE status = 'open';

-- A payment taken at the window: the order it paid (once), the session,
-- how (cash with what was handed over and the change; card with the
-- terminal's authorisation; cheque with bank and number; transfer with its
-- tracking key). A bounced cheque is recorded here, never deleted.
CREATE TABLE window_payments (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id          BIGINT  NOT NULL UNIQUE REFERENCES payment_orders (id),
    till_session_id   BIGINT  NOT NULL REFERENCES till_sessions (id),
    method            TEXT    NOT NULL CHECK (method IN ('cash', 'card', 'cheque', 'transfer')),
    amount_centavos   BIGINT  NOT NULL CHECK (amount_centavos >= 0),
    tendered_centavos BIGINT,
    change_centavos   BIGINT,
    reference         TEXT,
    bank              TEXT,
    taken_by          TEXT    NOT NULL,
    taken_at          TIMESTAMPTZ NOT NULL,
    bounced_at        TIMESTAMPTZ,
    bounced_by        TEXT,
    bounce_note       TEXT,
    CHECK (method <> 'cash' OR (tendered_centavos >= amount_centavos
                                AND change_centavos = tendered_centavos - amount_centavos)),
    CHECK (bounced_at IS NULL OR method = 'cheque')
);

CREATE INDEX window_payments_by_session ON window_payments (till_session_id);

-- A receipt's cancellation: requested (reason from the list, and text) by
-- a cajero or tesorero, decided by another person with the tesorero role.
-- At most one pending request per receipt.
CREATE TABLE receipt_cancellations (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    folio         TEXT    NOT NULL REFERENCES receipts (folio),
    reason        TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    requested_by  TEXT    NOT NULL,
    requested_at  TIMESTAMPTZ NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('requested', 'approved', 'rejected')),
    decided_by    TEXT,
    decided_at    TIMESTAMPTZ,
    decision_note TEXT,
    CHECK (decided_by IS NULL OR decided_by <> requested_by),
    CHECK ((status = 'requested') = (decided_by IS NULL))
);

CREATE UNIQUE INDEX receipt_cancellations_one_pending ON receipt_cancellations (folio) WHERE status = 'requested';
