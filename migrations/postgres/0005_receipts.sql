-- Official receipts (recibos oficiales) and their gapless folios (PostgreSQL).

-- The last folio number issued per series and fiscal year. Incremented in
-- the transaction that issues the receipt, so a rolled-back payment never
-- consumes a number: folios have no gaps and are never reused.
CREATE TABLE folio_counters (
    series      TEXT    NOT NULL,
    fiscal_year INTEGER NOT NULL,
    last_number INTEGER NOT NULL CHECK (last_number >= 1),
    PRIMARY KEY (series, fiscal_year)
);

-- One receipt per succeeded order, written in the transaction that marks it
-- succeeded. Never deleted: a cancelled receipt keeps its folio, with the
-- reason. The signature (Ed25519 over folio, total, date and account, see
-- app::domain::receipt_sig) is derived from the stored facts: it is filled
-- in right after the commit, or by whoever reads it first.
CREATE TABLE receipts (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    folio              TEXT    NOT NULL UNIQUE,
    series             TEXT    NOT NULL,
    fiscal_year        INTEGER NOT NULL,
    number             INTEGER NOT NULL CHECK (number >= 1),
    order_id           BIGINT  NOT NULL UNIQUE REFERENCES payment_orders (id),
    attempt_id         BIGINT  REFERENCES payment_attempts (id),
    issued_at          TIMESTAMPTZ NOT NULL,
    -- The date in the municipality's time zone (signed; the fiscal year's).
    issued_on          DATE    NOT NULL,
    -- The account paid (the first one, "+N" when the order covers more).
    account            TEXT    NOT NULL,
    payer_name         TEXT    NOT NULL,
    total_centavos     BIGINT  NOT NULL CHECK (total_centavos >= 0),
    method             TEXT,
    provider           TEXT,
    provider_reference TEXT,
    status             TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'cancelled')),
    cancel_reason      TEXT,
    cancelled_at       TIMESTAMPTZ,
    key_id             TEXT,
    signature          TEXT,
    UNIQUE (series, fiscal_year, number),
    CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL))
);

-- Receipts still to sign (normally none: signed right after the commit).
CREATE INDEX receipts_unsigned ON receipts (id) WHERE signature IS NULL;
