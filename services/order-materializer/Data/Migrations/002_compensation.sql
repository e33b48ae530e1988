-- Compensation facts. Every outcome comes from inventory (sold, released with its reason, returned);
-- a cancelled order also records the cancel request, whose reason the view shows.
ALTER TABLE order_view DROP CONSTRAINT order_view_status_check;
ALTER TABLE order_view ADD CONSTRAINT order_view_status_check CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED'));
ALTER TABLE order_view
    ADD COLUMN release_reason   text    NULL,
    ADD COLUMN seen_sold        boolean NOT NULL DEFAULT false,
    ADD COLUMN seen_returned    boolean NOT NULL DEFAULT false,
    ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false,
    ADD COLUMN cancel_reason    text    NULL,
    ADD COLUMN seen_voided      boolean NOT NULL DEFAULT false,
    ADD COLUMN seen_refunded    boolean NOT NULL DEFAULT false;

-- Stuck orders: PENDING, oldest first (an order whose created event has not arrived counts from its first event).
CREATE INDEX order_view_pending ON order_view ((COALESCE(created_at, updated_at))) WHERE status = 'PENDING';
