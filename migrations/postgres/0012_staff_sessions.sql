-- Staff sessions, kept on the server: the cookie holds a random 128-bit id
-- and only its SHA-256 is stored here (a copy of this table opens no
-- session). A session ends at logout, at "log out everywhere", after
-- `staff::IDLE_MINUTES` without use, or `staff::ABSOLUTE_HOURS` after login.
CREATE TABLE staff_sessions (
    id_hash      TEXT    PRIMARY KEY,
    staff_id     BIGINT NOT NULL REFERENCES staff_users (id),
    address      TEXT    NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id) WHERE ended_at IS NULL;
