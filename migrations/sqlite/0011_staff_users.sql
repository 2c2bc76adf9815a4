-- The treasury's staff: login name, display name, roles (a person may hold
-- several: cajero, revisor, tesorero, admin), the argon2id hash of the
-- password (PHC string; never the password), whether the account is active,
-- and the lockout state: failed logins in a row and until when logins are
-- refused after too many.
CREATE TABLE staff_users (
    id              INTEGER PRIMARY KEY,
    username        TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    roles           TEXT    NOT NULL CHECK (length(roles) > 0),
    password_hash   TEXT    NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
