-- Orders as accepted. An idempotency key is scoped to its user: (user_id, idempotency_key) is unique,
-- so concurrent requests with one key create one order; request_hash tells a replay from a misuse.
CREATE TABLE orders (
    order_id        uuid          PRIMARY KEY,
    user_id         text          NOT NULL,
    idempotency_key text          NULL,
    request_hash    bytea         NOT NULL,
    items           jsonb         NOT NULL,
    amount          numeric(18,2) NOT NULL,
    currency        char(3)       NOT NULL,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (user_id, idempotency_key)
);
