-- Orders are addressed by an unguessable token (128 random bits, 32 hex
-- digits; `domain::order_token`), never by their id or their reference.
-- Orders made before this migration get a token too; their old URLs stop
-- working (they were computable, which is why this exists).
ALTER TABLE payment_orders ADD COLUMN token TEXT;
UPDATE payment_orders SET token = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX payment_orders_token ON payment_orders (token);
