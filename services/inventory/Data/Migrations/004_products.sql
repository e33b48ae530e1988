-- The product catalogue: what a SKU is called and what one unit costs. Every reservation prices its lines
-- from here (inventory.reserved.v2); a SKU without a row is not for sale (UNKNOWN_SKU), whatever its stock.
-- Prices are exact decimals with at most 2 places; the currency is an upper-case ISO 4217 code.
CREATE TABLE products (
    sku        text          PRIMARY KEY CHECK (length(sku) BETWEEN 1 AND 64),
    name       text          NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit_price numeric(18,2) NOT NULL CHECK (unit_price > 0),
    currency   char(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    updated_at timestamptz   NOT NULL DEFAULT now()
);
