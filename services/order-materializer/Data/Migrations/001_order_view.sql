-- The order view. The fact columns record which saga events have been seen; status is derived from
-- them (OrderState.Derive), so the view converges whatever order the events arrive in.
CREATE TABLE order_view (
    order_id           uuid          PRIMARY KEY,
    status             text          NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED')),
    reason             text          NULL,
    user_id            text          NULL,
    items              jsonb         NULL,
    amount             numeric(18,2) NULL,
    currency           char(3)       NULL,
    created_at         timestamptz   NULL,
    seen_created       boolean       NOT NULL DEFAULT false,
    seen_reserved      boolean       NOT NULL DEFAULT false,
    inventory_failure  text          NULL,
    seen_authorized    boolean       NOT NULL DEFAULT false,
    payment_failure    text          NULL,
    seen_released      boolean       NOT NULL DEFAULT false,
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    settled_at         timestamptz   NULL
);

CREATE TABLE order_timeline (
    order_id    uuid        NOT NULL,
    event_id    uuid        NOT NULL,
    type        text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, event_id)
);
