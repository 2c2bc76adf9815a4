-- Recauda initial schema (PostgreSQL).
-- Money is integer centavos (BIGINT); due dates are DATE; timestamps TIMESTAMPTZ.

CREATE TABLE taxpayers (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_kind TEXT        NOT NULL CHECK (person_kind IN ('fisica', 'moral')),
    -- NULL when the padrón has no RFC; unique when present (NULLs never collide).
    rfc         TEXT        UNIQUE CHECK (rfc IS NULL OR char_length(rfc) BETWEEN 12 AND 13),
    name        TEXT        NOT NULL CHECK (char_length(name) > 0),
    colonia     TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number      TEXT        NOT NULL UNIQUE CHECK (char_length(number) > 0),
    kind        TEXT        NOT NULL CHECK (char_length(kind) > 0),
    taxpayer_id BIGINT      NOT NULL REFERENCES taxpayers (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX accounts_by_taxpayer ON accounts (taxpayer_id);

CREATE TABLE charges (
    id                 BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         BIGINT      NOT NULL REFERENCES accounts (id),
    concept            TEXT        NOT NULL CHECK (char_length(concept) > 0),
    period             TEXT        NOT NULL CHECK (char_length(period) > 0),
    due_date           DATE        NOT NULL,
    principal_centavos BIGINT      NOT NULL CHECK (principal_centavos > 0),
    status             TEXT        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'cancelled')),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, concept, period)
);

-- What the lookup reads: the open charges of a set of accounts, by due date.
CREATE INDEX charges_open_by_account ON charges (account_id, due_date) WHERE status = 'open';
