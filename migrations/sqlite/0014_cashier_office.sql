-- The cashier office (SQLite): tills and their sessions with the blind
-- corte de caja; payments taken at the window; cancellation requests.
--
-- An order's payment may now also be annulled by the treasury ("annulled":
-- a bounced cheque, a receipt cancellation approved by a second person).
-- SQLite cannot change payment_orders' CHECK constraint in place, and its
-- documented way (rebuilding the table with foreign keys off) cannot run
-- inside a migration's transaction: `store::sqlite::widen_order_statuses`
-- does it right after the migrations, once.

-- A till session: one cajero at one till (its code in the municipality
-- file, which is also its folio series) from the opening float to the
-- approved corte. status: open (takes payments), counted (the blind count
-- is in with a difference awaiting the tesorero; the till is locked),
-- closed (balanced, or approved). The expected figures are frozen when the
-- count is entered, and only then shown.
CREATE TABLE till_sessions (
    id                        INTEGER PRIMARY KEY,
    till                      TEXT    NOT NULL,
    cashier                   TEXT    NOT NULL,
    status                    TEXT    NOT NULL CHECK (status IN ('open', 'counted', 'closed')),
    opening_float_centavos    INTEGER NOT NULL CHECK (opening_float_centavos >= 0),
    opened_at                 TEXT    NOT NULL,
    counted_at                TEXT,
    -- The cash counted by denomination (JSON: {"50000": 3, ...}, centavos → pieces).
    denominations             TEXT,
    counted_cash_centavos     INTEGER,
    counted_card_centavos     INTEGER,
    counted_cheque_centavos   INTEGER,
    counted_transfer_centavos INTEGER,
    expected_cash_centavos    INTEGER,
    expected_card_centavos    INTEGER,
    expected_cheque_centavos  INTEGER,
    expected_transfer_centavos INTEGER,
    explanation               TEXT,
    approved_by               TEXT,
    approved_at               TEXT,
    approval_note             TEXT,
    closed_at                 TEXT,
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
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL UNIQUE REFERENCES payment_orders (id),
    till_session_id   INTEGER NOT NULL REFERENCES till_sessions (id),
    method            TEXT    NOT NULL CHECK (method IN ('cash', 'card', 'cheque', 'transfer')),
    amount_centavos   INTEGER NOT NULL CHECK (amount_centavos >= 0),
    tendered_centavos INTEGER,
    change_centavos   INTEGER,
    reference         TEXT,
    bank              TEXT,
    taken_by          TEXT    NOT NULL,
    taken_at          TEXT    NOT NULL,
    bounced_at        TEXT,
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
    id            INTEGER PRIMARY KEY,
    folio         TEXT    NOT NULL REFERENCES receipts (folio),
    reason        TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    requested_by  TEXT    NOT NULL,
    requested_at  TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('requested', 'approved', 'rejected')),
    decided_by    TEXT,
    decided_at    TEXT,
    decision_note TEXT,
    CHECK (decided_by IS NULL OR decided_by <> requested_by),
    CHECK ((status = 'requested') = (decided_by IS NULL))
);

CREATE UNIQUE INDEX receipt_cancellations_one_pending ON receipt_cancellations (folio) WHERE status = 'requested';

