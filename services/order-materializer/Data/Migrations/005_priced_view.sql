-- Set once the order's priced reservation (inventory.reserved.v2) is in: items, amount and currency are then
-- the catalogue's, and an order.created folded later (events of different topics arrive in any order) leaves them.
-- Not indexed, so setting it keeps the update HOT (004).
ALTER TABLE order_view ADD COLUMN priced boolean NOT NULL DEFAULT false;
