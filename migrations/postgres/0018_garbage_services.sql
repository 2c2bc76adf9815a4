-- Garbage collection for businesses (PostgreSQL). See app::domain::garbage.

-- Which accounts receive the monthly collection, under which monthly tariff
-- (a code of the municipality file: category and frequency), from which day
-- and until which day (NULL: still served). An account has at most one
-- service without an end; a service ended stays, for the months it covered.
CREATE TABLE garbage_services (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT  NOT NULL REFERENCES accounts (id),
    tariff     TEXT    NOT NULL CHECK (length(tariff) > 0),
    starts_on  DATE    NOT NULL,
    ends_on    DATE    CHECK (ends_on IS NULL OR ends_on >= starts_on),
    created_at TIMESTAMPTZ NOT NULL,
    -- 'staff:<username>' or 'cli:<user>'.
    created_by TEXT    NOT NULL,
    ended_at   TIMESTAMPTZ,
    ended_by   TEXT
);

CREATE UNIQUE INDEX garbage_services_one_open ON garbage_services (account_id) WHERE ends_on IS NULL;
CREATE INDEX garbage_services_by_start ON garbage_services (starts_on, id);

-- An amount the treasury set within a range tariff of the garbage procedure
-- (a fine, or a special service): its charge, the factor in UMA, the UMA it
-- was quoted with, and who set it and why.
CREATE TABLE garbage_staff_charges (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charge_id    BIGINT  NOT NULL UNIQUE REFERENCES charges (id),
    tariff       TEXT    NOT NULL CHECK (length(tariff) > 0),
    -- Decimals as written (e.g. '60', '12.5').
    factor       TEXT    NOT NULL,
    uma          TEXT    NOT NULL,
    fee_centavos BIGINT  NOT NULL CHECK (fee_centavos > 0),
    reason       TEXT    NOT NULL CHECK (length(reason) > 0),
    set_on       DATE    NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT    NOT NULL
);
