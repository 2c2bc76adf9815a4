-- Alcohol licences (licencias de funcionamiento de establecimientos con
-- venta de bebidas alcohólicas) and the link from a permit request to the
-- licence it renews or changes (SQLite). See app::domain::licences.

-- The registry, loaded by `recauda licencias importar ARCHIVO.csv` (all or
-- nothing). A business reaches its licence by number AND its holder's RFC.
CREATE TABLE alcohol_licences (
    id          INTEGER PRIMARY KEY,
    -- As printed on the licence, uppercase (e.g. ALC-2019-0042).
    number      TEXT    NOT NULL UNIQUE CHECK (length(number) BETWEEN 1 AND 30),
    holder_rfc  TEXT    NOT NULL CHECK (length(holder_rfc) IN (12, 13)),
    holder_name TEXT    NOT NULL CHECK (length(holder_name) > 0),
    -- A code of the municipality file's [[giros]] (BAR-DISCO, AGENCIA…).
    giro        TEXT    NOT NULL CHECK (length(giro) > 0),
    address     TEXT    NOT NULL CHECK (length(address) > 0),
    -- Opening hours as written ("10:00 a 02:00"); may be empty.
    hours       TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'revoked')),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE INDEX alcohol_licences_by_rfc ON alcohol_licences (holder_rfc);

-- A request of a licence's page names the licence; a renewal (refrendo)
-- also names the fiscal year it renews.
ALTER TABLE permit_requests ADD COLUMN licence_id INTEGER REFERENCES alcohol_licences (id);
ALTER TABLE permit_requests ADD COLUMN licence_year INTEGER CHECK (licence_year IS NULL OR licence_year BETWEEN 2000 AND 2200);
-- What the request changes in the licence once its permit is issued (JSON,
-- app::domain::licences::LicenceChange: giro, address, hours).
ALTER TABLE permit_requests ADD COLUMN licence_change TEXT;

-- At most one live renewal per licence and year: a rejected, cancelled or
-- expired one leaves room for a new one.
CREATE UNIQUE INDEX permit_requests_live_renewal ON permit_requests (licence_id, licence_year)
    WHERE licence_year IS NOT NULL AND status NOT IN ('rejected', 'cancelled', 'expired');
CREATE INDEX permit_requests_by_licence ON permit_requests (licence_id, id);
