-- Payment instructions (the OXXO voucher, the SPEI transfer details), the
-- provider's payment id (for refunds), when the healing sweep asks about an
-- attempt next, SPEI as a method; the refund of overpayments (PostgreSQL).

ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_method_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_method_check
    CHECK (method IN ('card', 'oxxo', 'spei'));

-- What the citizen needs to pay an asynchronous method, as JSON
-- (`payments::Instructions`): the OXXO voucher or the SPEI transfer.
ALTER TABLE payment_attempts ADD COLUMN instructions TEXT;
-- The voucher's (or transfer's) deadline, when the provider gives one.
ALTER TABLE payment_attempts ADD COLUMN pay_before TIMESTAMPTZ;
-- The provider's payment id (Stripe's PaymentIntent), for refunds.
ALTER TABLE payment_attempts ADD COLUMN payment_intent TEXT;
-- When the healing sweep asks the provider about this attempt next (NULL: as
-- soon as it is old enough).
ALTER TABLE payment_attempts ADD COLUMN next_check_at TIMESTAMPTZ;

UPDATE payment_attempts
SET instructions = json_build_object('method', 'oxxo', 'number', voucher_reference)::text
WHERE voucher_reference IS NOT NULL;

ALTER TABLE payment_attempts DROP COLUMN voucher_reference;

-- What the healing sweep reads.
CREATE INDEX payment_attempts_pending ON payment_attempts (provider, created_at)
    WHERE status = 'pending';

-- The refund of each overpayment: to_refund (recorded; refunded by hand, or
-- automatically when configured), refunded (the provider's refund id in
-- refund_ref), refund_failed (the provider's answer in refund_error; retried).
ALTER TABLE overpayments ADD COLUMN refund_status TEXT NOT NULL DEFAULT 'to_refund'
    CHECK (refund_status IN ('to_refund', 'refunded', 'refund_failed'));
ALTER TABLE overpayments ADD COLUMN refund_ref TEXT;
ALTER TABLE overpayments ADD COLUMN refund_error TEXT;
ALTER TABLE overpayments ADD COLUMN refunded_at TIMESTAMPTZ;
