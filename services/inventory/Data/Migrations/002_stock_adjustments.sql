-- Operators add stock (RECEIPT) or correct it either way (ADJUSTMENT); both are rows here, so the
-- invariant still reads available + reserved + sold = SUM(stock_receipts.quantity), corrections counted.
ALTER TABLE stock_receipts DROP CONSTRAINT stock_receipts_quantity_check;
ALTER TABLE stock_receipts
    ADD CONSTRAINT stock_receipts_quantity_check CHECK (quantity <> 0),
    ADD COLUMN kind   text NOT NULL DEFAULT 'RECEIPT' CHECK (kind IN ('RECEIPT', 'ADJUSTMENT')),
    ADD COLUMN reason text NULL,
    -- A receipt only ever adds stock.
    ADD CONSTRAINT stock_receipts_receipt_positive CHECK (kind <> 'RECEIPT' OR quantity > 0);
