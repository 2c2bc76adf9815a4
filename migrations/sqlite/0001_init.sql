-- Recauda initial schema (SQLite).
-- Money is integer centavos; dates are ISO-8601 text (YYYY-MM-DD), timestamps UTC text.

CREATE TABLE taxpayers (
    id          INTEGER PRIMARY KEY,
    person_kind TEXT    NOT NULL CHECK (person_kind IN ('fisica', 'moral')),
    -- NULL when the padrón has no RFC; unique when present (NULLs never collide).
    rfc         TEXT    UNIQUE CHECK (rfc IS NULL OR length(rfc) BETWEEN 12 AND 13),
    name        TEXT    NOT NULL CHECK (length(name) > 0),
    colonia     TEXT,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE CHECK (length(number) > 0),
    kind        TEXT    NOT NULL CHECK (length(kind) > 0),
    taxpayer_id INTEGER NOT NULL REFERENCES taxpayers (id),
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX accounts_by_taxpayer ON accounts (taxpayer_id);

CREATE TABLE charges (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts (id),
    concept            TEXT    NOT NULL CHECK (length(concept) > 0),
    period             TEXT    NOT NULL CHECK (length(period) > 0),
    due_date           TEXT    NOT NULL
        CHECK (due_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]' AND date(due_date) = due_date),
    principal_centavos INTEGER NOT NULL CHECK (principal_centavos > 0),
    status             TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'cancelled')),
    created_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (account_id, concept, period)
);

-- What the lookup reads: the open charges of a set of accounts, by due date.
CREATE INDEX charges_open_by_account ON charges (account_id, due_date) WHERE status = 'open';
