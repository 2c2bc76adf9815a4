-- Secrets of the installation, made once by whichever server starts first
-- and shared by every `recauda serve` on this database (e.g. the key that
-- binds a form's CSRF token to the browser's session). Never shown, never
-- logged; rotating one is deleting its row and restarting the servers.
CREATE TABLE instance_secrets (
    name   TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
