-- One payment decision per order: the primary key makes a second authorization impossible.
CREATE TABLE payments (
    order_id   uuid          PRIMARY KEY,
    payment_id uuid          NOT NULL UNIQUE,
    status     text          NOT NULL CHECK (status IN ('AUTHORIZED', 'DECLINED')),
    amount     numeric(18,2) NOT NULL,
    currency   char(3)       NOT NULL,
    reason     text          NULL,
    created_at timestamptz   NOT NULL DEFAULT now()
);
