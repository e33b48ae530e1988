-- The transactional outbox: a service writes its state change and the events it emits in one
-- transaction; OutboxRelay publishes unsent rows in id order and stamps sent_at.
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid        NOT NULL UNIQUE,
    topic       text        NOT NULL,
    msg_key     text        NOT NULL,
    event_type  text        NOT NULL,
    payload     bytea       NOT NULL,
    traceparent text        NULL,
    tracestate  text        NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz NULL
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- The inbox: one row per (consumer, event id) processed, written in the same transaction as the
-- handler's effects, so a redelivered event finds its row and changes nothing.
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    topic        text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
