-- Sessions remember how and from where they were opened; an admin may end them too.
ALTER TABLE sessions DROP CONSTRAINT sessions_revoke_reason_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_revoke_reason_check
    CHECK (revoke_reason IN ('logout', 'password_reset', 'refresh_reuse', 'admin'));
ALTER TABLE sessions
    ADD COLUMN sign_in_method text NOT NULL DEFAULT 'password' CHECK (sign_in_method IN ('password', 'qr')),
    ADD COLUMN client_address text,
    ADD COLUMN user_agent text;
CREATE INDEX sessions_user_active ON sessions (user_id) WHERE revoked_at IS NULL;

-- A signing key stops signing at deactivated_at (a newer key took over) and stays in the JWKS until
-- retired_at, so that tokens it signed keep verifying until they expire.
ALTER TABLE signing_keys ADD COLUMN deactivated_at timestamptz;

-- Keyed hash of the client address that asked for a code, for the daily limit per address.
ALTER TABLE sms_codes ADD COLUMN address_hash bytea;
CREATE INDEX sms_codes_address ON sms_codes (address_hash, created_at DESC) WHERE address_hash IS NOT NULL;
CREATE INDEX sms_codes_created ON sms_codes (created_at);

-- Codes waiting for the HTTP SMS provider; mobile and code are encrypted under the data key and the
-- row is deleted once the provider accepted it or the code expired.
CREATE TABLE sms_deliveries (
    id uuid PRIMARY KEY,
    mobile_encrypted bytea NOT NULL,
    code_encrypted bytea NOT NULL,
    data_key_id text NOT NULL,
    purpose text NOT NULL CHECK (purpose IN ('register', 'reset_password')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL
);
CREATE INDEX sms_deliveries_due ON sms_deliveries (next_attempt_at);

-- Sign-in failures in a row per scope ('account': a user id or an unknown account string;
-- 'address': a client address), each under a keyed hash.
DROP TABLE sign_in_failures;
CREATE TABLE sign_in_throttles (
    key_hash bytea PRIMARY KEY,
    scope text NOT NULL CHECK (scope IN ('account', 'address')),
    failures integer NOT NULL,
    last_failed_at timestamptz NOT NULL,
    blocked_until timestamptz
);

-- Client addresses an account signed in from; the account's own throttle does not hold these back.
CREATE TABLE recognised_addresses (
    user_id uuid NOT NULL REFERENCES users (id),
    address_hash bytea NOT NULL,
    last_signed_in_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, address_hash)
);

-- 扫码登录 tickets. The page polls with its poll secret (stored hashed); the session is opened when
-- the page collects it after confirmation, so nothing token-like is stored here.
CREATE TABLE qr_tickets (
    id uuid PRIMARY KEY,
    poll_secret_hash bytea NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    page_address text,
    page_user_agent text,
    scanned_by uuid REFERENCES users (id),
    scanned_session_id uuid REFERENCES sessions (id),
    scanned_at timestamptz,
    confirmed_at timestamptz,
    collected_at timestamptz,
    session_id uuid REFERENCES sessions (id)
);
CREATE INDEX qr_tickets_expiry ON qr_tickets (expires_at);

-- Security audit trail, read by admins newest first (keyset pagination on id).
CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    type text NOT NULL,
    user_id uuid,
    -- The account name as typed, with ID numbers and mobile numbers masked.
    account text,
    client_address text,
    user_agent text,
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_user ON audit_events (user_id, id DESC);
CREATE INDEX audit_events_type ON audit_events (type, id DESC);

-- Data keys by the time a process first used them as TALENT_DATA_KEY. Start-up re-encrypts rows only
-- from keys used before the process's own, so a process still on an older key never undoes a rotation.
CREATE TABLE data_keys (
    key_id text PRIMARY KEY,
    first_used_at timestamptz NOT NULL
);
