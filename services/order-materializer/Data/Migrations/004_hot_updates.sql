-- A view changes about four times per order, and most changes (a reservation or a sale seen) move
-- neither its status nor its creation fields. With room left on the page and no index on a column
-- that such a change touches, PostgreSQL keeps the new version on the page and leaves the indexes
-- alone (a HOT update). updated_at changes every time, so the stuck-order index no longer uses it:
-- an order whose order.created has not arrived counts from when its view was first seen.
ALTER TABLE order_view ADD COLUMN first_seen_at timestamptz NOT NULL DEFAULT now();
UPDATE order_view SET first_seen_at = updated_at WHERE created_at IS NULL;
DROP INDEX order_view_pending;
CREATE INDEX order_view_pending ON order_view ((COALESCE(created_at, first_seen_at))) WHERE status = 'PENDING';
ALTER TABLE order_view SET (fillfactor = 70);
