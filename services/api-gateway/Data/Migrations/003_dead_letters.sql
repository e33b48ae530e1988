-- Dead letters an operator redrove, by their place in the dead-letter topic. A row is written in the
-- transaction that is committed only once the broker has acknowledged the republished message, so a
-- row means "published"; the primary key makes a second redrive of the same dead letter a no-op.
CREATE TABLE dead_letter_redrives (
    dlq_topic      text        NOT NULL,
    dlq_partition  integer     NOT NULL,
    dlq_offset     bigint      NOT NULL,
    original_topic text        NOT NULL,
    event_id       text        NULL,
    redriven_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
);

-- Purged dead letters: everything below purged_below in a partition is gone from the operator's view
-- (and from the broker where it serves DeleteRecords). Only ever moves up.
CREATE TABLE dead_letter_purges (
    dlq_topic     text        NOT NULL,
    dlq_partition integer     NOT NULL,
    purged_below  bigint      NOT NULL,
    purged_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dlq_topic, dlq_partition)
);
