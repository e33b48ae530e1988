-- VENDOR_SYNC: a vendor's reported quantity applied to a vendor-fed SKU (docs/architecture.md, "Stock from vendors"),
-- either sign; like an adjustment it is a row here, so available + reserved + sold = SUM(stock_receipts.quantity) holds.
ALTER TABLE stock_receipts DROP CONSTRAINT stock_receipts_kind_check;
ALTER TABLE stock_receipts ADD CONSTRAINT stock_receipts_kind_check CHECK (kind IN ('RECEIPT', 'ADJUSTMENT', 'VENDOR_SYNC'));

-- The sync reads a SKU's receipts under its row lock, and a vendor-fed SKU gathers a row per change: keep that an index scan.
CREATE INDEX stock_receipts_sku ON stock_receipts (sku);
