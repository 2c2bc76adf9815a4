-- Permit requests (solicitudes de trámite) and the permits issued for them
-- (SQLite). See app::domain::permits for the states and who moves them.

-- A request. The applicant reaches it with its token (unguessable, in the
-- link they are given) AND their e-mail or RFC; the number is for people
-- to quote on the phone, never enough on its own.
CREATE TABLE permit_requests (
    id              INTEGER PRIMARY KEY,
    token           TEXT    NOT NULL UNIQUE,
    -- SOL-2026-000123: a folio of the series SOL (gapless per year).
    number          TEXT    NOT NULL UNIQUE,
    procedure       TEXT    NOT NULL,
    -- 'new' or 'renewal' (which documents the checklist asks for).
    kind            TEXT    NOT NULL CHECK (kind IN ('new', 'renewal')),
    status          TEXT    NOT NULL CHECK (status IN ('submitted', 'in_review', 'needs_correction', 'approved',
                                                       'paid', 'issued', 'rejected', 'cancelled', 'expired')),
    applicant_name  TEXT    NOT NULL CHECK (length(applicant_name) > 0),
    -- Lowercase.
    applicant_email TEXT    NOT NULL CHECK (length(applicant_email) > 0),
    applicant_rfc   TEXT,
    applicant_phone TEXT,
    -- What the permit will allow (JSON, app::domain::permits::PermitScope).
    scope           TEXT    NOT NULL,
    -- The fees (JSON list of app::domain::permits::RequestLine).
    lines           TEXT    NOT NULL,
    -- The total once every fee is known (at filing, or at approval for range tariffs).
    fee_centavos    INTEGER CHECK (fee_centavos IS NULL OR fee_centavos >= 0),
    -- The account its charges were put on at approval.
    account_id      INTEGER REFERENCES accounts (id),
    -- The day it was filed, in the municipality's time zone.
    filed_on        TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    -- The rejection's reason.
    reason          TEXT
);

CREATE INDEX permit_requests_by_status ON permit_requests (status, id);
CREATE INDEX permit_requests_by_account ON permit_requests (account_id);

-- Every step of a request, with its comment (the timeline). on_day is the
-- date in the municipality's time zone: the working-day clock counts it.
CREATE TABLE permit_request_events (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES permit_requests (id),
    at          TEXT    NOT NULL,
    on_day      TEXT    NOT NULL,
    -- 'submit' or an app::domain::permits::RequestAction.
    action      TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    -- 'applicant', 'system' or 'staff:<username>'.
    actor       TEXT    NOT NULL,
    comment     TEXT
);

CREATE INDEX permit_request_events_by_request ON permit_request_events (request_id, id);

-- A document uploaded with a request. The bytes live in the database (never
-- under the web root, shared by every server), checked by content on the
-- way in; served only to the applicant and to staff, as attachments.
CREATE TABLE permit_documents (
    id             INTEGER PRIMARY KEY,
    request_id     INTEGER NOT NULL REFERENCES permit_requests (id),
    -- The checklist's code (procedures.documents.code).
    doc_code       TEXT    NOT NULL,
    -- The original name, cleaned, only to show it.
    file_name      TEXT    NOT NULL,
    content_type   TEXT    NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes     INTEGER NOT NULL CHECK (size_bytes > 0),
    sha256         TEXT    NOT NULL,
    bytes          BLOB    NOT NULL,
    uploaded_at    TEXT    NOT NULL,
    -- What the revisor asked to correct in it (set with ask_correction).
    review_comment TEXT,
    -- A corrected upload replaces it for review; the old one stays.
    replaced       INTEGER NOT NULL DEFAULT 0 CHECK (replaced IN (0, 1))
);

CREATE INDEX permit_documents_by_request ON permit_documents (request_id, id);

-- A permit, issued when its request is paid: its own folio series (PER),
-- gapless like receipts, and a signature over its scope (see
-- app::domain::permits::PermitScope::signed_text), filled in after the
-- commit by whoever reads it first, like receipts.
CREATE TABLE permits (
    id            INTEGER PRIMARY KEY,
    folio         TEXT    NOT NULL UNIQUE,
    series        TEXT    NOT NULL,
    fiscal_year   INTEGER NOT NULL,
    number        INTEGER NOT NULL CHECK (number >= 1),
    request_id    INTEGER NOT NULL UNIQUE REFERENCES permit_requests (id),
    issued_at     TEXT    NOT NULL,
    issued_on     TEXT    NOT NULL,
    -- The scope as issued (JSON); what the signature covers.
    scope         TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'cancelled')),
    cancel_reason TEXT,
    key_id        TEXT,
    signature     TEXT,
    redeemed_at   TEXT,
    redeemed_by   TEXT,
    UNIQUE (series, fiscal_year, number)
);
