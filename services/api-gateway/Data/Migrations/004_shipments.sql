-- One ship request per order. Ship and cancel requests both lock the order's row (SELECT ... FOR UPDATE on
-- orders) before they look at this table and order_cancellations, so of a ship and a cancel of one order
-- whichever commits first wins and the other is a 409: never a return of goods that left.
CREATE TABLE order_shipments (
    order_id     uuid        PRIMARY KEY REFERENCES orders (order_id),
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
