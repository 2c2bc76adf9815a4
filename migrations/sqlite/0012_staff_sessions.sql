-- Staff sessions, kept on the server: the cookie holds a random 128-bit id
-- and only its SHA-256 is stored here (a copy of this table opens no
-- session). A session ends at logout, at "log out everywhere", after
-- `staff::IDLE_MINUTES` without use, or `staff::ABSOLUTE_HOURS` after login.
CREATE TABLE staff_sessions (
    id_hash      TEXT    PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff_users (id),
    address      TEXT    NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id) WHERE ended_at IS NULL;
