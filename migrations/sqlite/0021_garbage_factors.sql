-- Garbage collection (SQLite): the monthly factor of a service under a
-- monthly RANGE tariff (inciso i), and how many services a charge per service
-- is for (inciso g). See app::domain::garbage.

-- The monthly factor in UMA the treasury set within the tariff's range when it
-- registered the service, as a decimal string, normalised ('40', '15.5'), the
-- way garbage_staff_charges keeps its factor; NULL under a fixed tariff. The
-- reason given for it is optional.
ALTER TABLE garbage_services ADD COLUMN factor TEXT
    CHECK (factor IS NULL OR (length(factor) BETWEEN 1 AND 20 AND factor NOT GLOB '*[^0-9.]*'));
ALTER TABLE garbage_services ADD COLUMN reason TEXT CHECK (reason IS NULL OR length(reason) > 0);

-- How many services a charge is for: N services of a tariff charged per
-- service; 1 for an amount set within a range (every row before this one).
ALTER TABLE garbage_staff_charges ADD COLUMN quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1);
