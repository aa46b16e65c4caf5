-- Anonymous requests per client address and minute, for the endpoints anyone may call that store a row
-- (captchas, QR sign-in tickets). The address is kept only as a keyed hash.
CREATE TABLE address_request_counts (
    action text NOT NULL,
    address_hash bytea NOT NULL,
    window_start timestamptz NOT NULL,
    requests integer NOT NULL,
    PRIMARY KEY (action, address_hash, window_start)
);
CREATE INDEX address_request_counts_window ON address_request_counts (window_start);
