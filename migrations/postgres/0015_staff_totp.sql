-- The staff's optional second factor: a TOTP secret (RFC 6238; 20 random
-- bytes in base32), set when a code from the secret the enrolment page
-- offered confirms it (2FA on; the offer itself is derived, never
-- stored). `totp_last_step` is the last time step whose code was
-- accepted: that code and every earlier one are refused (a code is worth
-- once).
ALTER TABLE staff_users ADD COLUMN totp_secret TEXT;
ALTER TABLE staff_users ADD COLUMN totp_last_step BIGINT;

-- A login whose password was right and whose code is still due: a random
-- token (only its SHA-256 here) given to the browser that typed the
-- password and bound to it (the SHA-256 of its CSRF session), good for 5
-- minutes and once. No session exists until the code is accepted.
CREATE TABLE staff_login_challenges (
    id_hash      TEXT   PRIMARY KEY,
    staff_id     BIGINT NOT NULL REFERENCES staff_users (id),
    browser_hash TEXT   NOT NULL,
    address      TEXT   NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ
);
CREATE INDEX staff_login_challenges_by_expiry ON staff_login_challenges (expires_at);
