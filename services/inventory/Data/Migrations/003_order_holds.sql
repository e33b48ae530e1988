-- One row per order inventory has acted on. It is the per-order lock every handler and the deadline
-- scanner take first (then the stock rows, in SKU order), and what a late or reordered event is judged
-- against: a payment after the deadline finds RELEASED and sells nothing; an order.created after its
-- cancel finds RELEASED and reserves nothing. NEW exists only inside a transaction, before the decision.
CREATE TABLE inventory_orders (
    order_id    uuid        PRIMARY KEY,
    status      text        NOT NULL CHECK (status IN ('NEW', 'RESERVED', 'FAILED', 'SOLD', 'RELEASED', 'RETURNED')),
    reason      text        NULL,
    reserved_at timestamptz NULL,
    -- The trace of the reservation, so a release by the deadline scanner joins the order's trace.
    traceparent text        NULL,
    tracestate  text        NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_orders_reserved ON inventory_orders (reserved_at) WHERE status = 'RESERVED';

-- RETURNED: a sold line put back into available stock (a confirmed order cancelled).
ALTER TABLE reservations DROP CONSTRAINT reservations_status_check;
ALTER TABLE reservations ADD CONSTRAINT reservations_status_check CHECK (status IN ('RESERVED', 'SOLD', 'RELEASED', 'RETURNED'));

-- Orders reserved before this migration get their row from their reservation lines.
INSERT INTO inventory_orders (order_id, status, reserved_at, updated_at)
SELECT order_id, min(status), min(updated_at), max(updated_at) FROM reservations GROUP BY order_id;
