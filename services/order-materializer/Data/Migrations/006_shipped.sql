-- Fulfilment: a sold order becomes SHIPPED once fulfilment dispatched it (shipment.dispatched.v1); the ship
-- request (order.ship-requested.v1) is a fact the timeline shows and operators read, not a status.
ALTER TABLE order_view DROP CONSTRAINT order_view_status_check;
ALTER TABLE order_view ADD CONSTRAINT order_view_status_check CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED', 'SHIPPED'));
ALTER TABLE order_view
    ADD COLUMN ship_requested  boolean NOT NULL DEFAULT false,
    ADD COLUMN seen_dispatched boolean NOT NULL DEFAULT false;

-- Confirmed orders not shipped in time, oldest first: settled_at of a CONFIRMED view is when it was confirmed.
-- Both columns change only when the status does, so the index costs no HOT update (004).
CREATE INDEX order_view_unshipped ON order_view (settled_at) WHERE status = 'CONFIRMED';
