-- GET /orders pages newest first by (created_at, order_id): keyset pagination, for everyone or one user.
CREATE INDEX order_view_created ON order_view (created_at DESC, order_id DESC) WHERE created_at IS NOT NULL;
CREATE INDEX order_view_user_created ON order_view (user_id, created_at DESC, order_id DESC) WHERE created_at IS NOT NULL;
