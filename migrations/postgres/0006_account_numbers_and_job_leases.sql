-- Account numbers are stored upper case, as every entry point now
-- normalises them (`domain::account::AccountNumber`): an account imported as
-- `p-000123` becomes reachable as `P-000123`. A number whose upper-case form
-- already exists is left as it was (the two are for the treasury to merge).
UPDATE accounts SET number = upper(number)
WHERE number <> upper(number)
  AND NOT EXISTS (SELECT 1 FROM accounts b WHERE b.number = upper(accounts.number));

-- Background jobs (order expiry, the Stripe healing sweep) run in one
-- `recauda serve` process at a time: the one holding the job's lease.
CREATE TABLE job_leases (
    name   TEXT        PRIMARY KEY,
    holder TEXT        NOT NULL,
    until  TIMESTAMPTZ NOT NULL
);
