-- One cancel request per order: the primary key makes a repeated (or concurrent) cancel a no-op that
-- answers as the first did; the first one's order.cancel-requested event is written with it.
CREATE TABLE order_cancellations (
    order_id     uuid        PRIMARY KEY REFERENCES orders (order_id),
    reason       text        NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
