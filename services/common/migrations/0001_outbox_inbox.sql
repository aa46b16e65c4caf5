-- Transactional outbox: rows written in the same transaction as the state change they announce.
CREATE TABLE outbox (
    id uuid PRIMARY KEY,
    type text NOT NULL,
    envelope jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;

-- Inbox: ids of events already applied by this service's consumers.
CREATE TABLE inbox (
    event_id uuid NOT NULL,
    consumer text NOT NULL,
    type text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, consumer)
);

-- Responses of retried writes, keyed by the client's Idempotency-Key.
CREATE TABLE idempotency_keys (
    user_id text NOT NULL,
    key text NOT NULL,
    scope text NOT NULL,
    request_hash text NOT NULL,
    status integer NOT NULL,
    body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key, scope)
);
