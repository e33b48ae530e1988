-- Invariant per SKU: available + reserved + sold = SUM(stock_receipts.quantity); none negative.
CREATE TABLE stock (
    sku       text   PRIMARY KEY,
    available bigint NOT NULL CHECK (available >= 0),
    reserved  bigint NOT NULL CHECK (reserved >= 0),
    sold      bigint NOT NULL CHECK (sold >= 0)
);

CREATE TABLE stock_receipts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text        NOT NULL REFERENCES stock (sku),
    quantity    bigint      NOT NULL CHECK (quantity > 0),
    received_at timestamptz NOT NULL DEFAULT now()
);

-- One row per order line (lines of one SKU merged); status moves RESERVED -> SOLD or RESERVED -> RELEASED.
CREATE TABLE reservations (
    order_id   uuid        NOT NULL,
    sku        text        NOT NULL REFERENCES stock (sku),
    qty        integer     NOT NULL CHECK (qty > 0),
    status     text        NOT NULL CHECK (status IN ('RESERVED', 'SOLD', 'RELEASED')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, sku)
);
