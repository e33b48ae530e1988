-- One row per order fulfilment has heard of, whichever of its sale (inventory.sold) and its ship request
-- (order.ship-requested) came first. The primary key and the unique shipment id make a second dispatch of
-- an order impossible; the save never changes a DISPATCHED row (ShipmentStore checks its row count).
CREATE TABLE shipments (
    order_id      uuid        PRIMARY KEY,
    status        text        NOT NULL CHECK (status IN ('AWAITING', 'REQUESTED', 'DISPATCHED', 'CANCELLED')),
    items         jsonb       NULL,
    requested_by  text        NULL,
    requested_at  timestamptz NULL,
    shipment_id   uuid        NULL UNIQUE,
    dispatched_at timestamptz NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'DISPATCHED') = (shipment_id IS NOT NULL AND dispatched_at IS NOT NULL AND items IS NOT NULL AND requested_by IS NOT NULL))
);
