-- New alcohol licences registered by the portal (SQLite). See
-- app::domain::licences.

-- A request for a new licence (a tariff of a group with licence = "new")
-- names, from its filing, the giro of the licence it registers once paid.
-- When its permit is issued the registry takes the licence (ALC-2026-0001)
-- and the request names it (licence_id) with the year of issue
-- (licence_year): that year's renewal is the expedition itself.
ALTER TABLE permit_requests ADD COLUMN new_licence_giro TEXT CHECK (new_licence_giro IS NULL OR length(new_licence_giro) > 0);
