-- The audit trail: one entry per action that touches money or rules
-- (payments, receipts and their cancellation, refunds and disputes, padrón
-- imports, key rotations; later the cashier office's actions). Each entry
-- carries the hash of the previous one, so an entry edited, deleted or moved
-- breaks the chain (`recauda audit verify`). Entries are only ever inserted.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
-- The chain's head: the last entry's number and hash (locked by whoever
-- appends, so entries are numbered one after the other; a deleted last
-- entry no longer matches it).
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
