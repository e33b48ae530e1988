-- An authorization is voided (its goods were released: deadline or cancel before the sale) or refunded
-- (its order was cancelled after it was confirmed). Only AUTHORIZED is money captured.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('AUTHORIZED', 'DECLINED', 'VOIDED', 'REFUNDED'));
ALTER TABLE payments ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Orders inventory closed before payment decided (the release overtook the reservation event, or
-- payment was down past the deadline): a later inventory.reserved for them must not authorize.
CREATE TABLE closed_orders (
    order_id  uuid        PRIMARY KEY,
    reason    text        NOT NULL,
    closed_at timestamptz NOT NULL DEFAULT now()
);
