-- Accounts: one row per user, with kind-specific details in persons, units or staff.
CREATE TABLE users (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('person', 'unit', 'staff')),
    role text NOT NULL CHECK (role IN ('applicant', 'unit_reviewer', 'department_reviewer', 'admin')),
    display_name text NOT NULL,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL,
    first_signed_in_at timestamptz
);

-- 公民身份号码 is stored encrypted (AES-256-GCM under the data key named by data_key_id) and as a
-- keyed HMAC-SHA256 hash for unique look-ups.
CREATE TABLE persons (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    mobile text NOT NULL UNIQUE,
    id_number_encrypted bytea NOT NULL,
    id_number_hash bytea NOT NULL UNIQUE,
    id_number_masked text NOT NULL,
    data_key_id text NOT NULL
);

-- Recommending units (推荐单位); the 统一社会信用代码 is the sign-in account.
CREATE TABLE units (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    uscc text NOT NULL UNIQUE,
    unit_name text NOT NULL,
    contact_name text NOT NULL,
    contact_mobile text NOT NULL
);

CREATE TABLE staff (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    account text NOT NULL UNIQUE,
    created_by uuid REFERENCES users (id)
);

-- ES256 key pairs; the private key is encrypted under the data key named by data_key_id.
CREATE TABLE signing_keys (
    kid text PRIMARY KEY,
    public_jwk jsonb NOT NULL,
    private_key_encrypted bytea NOT NULL,
    data_key_id text NOT NULL,
    created_at timestamptz NOT NULL,
    retired_at timestamptz
);

-- access_expires_at is the expiry of the longest-lived access token issued in the session.
CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    access_expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoke_reason text CHECK (revoke_reason IN ('logout', 'password_reset', 'refresh_reuse'))
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_revoked ON sessions (access_expires_at) WHERE revoked_at IS NOT NULL;

-- Refresh tokens are stored as SHA-256 hashes; used_at is set when a token was exchanged.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    created_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- dev_answer is filled only when development endpoints are on.
CREATE TABLE captchas (
    id uuid PRIMARY KEY,
    answer_hash bytea NOT NULL,
    dev_answer text,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX captchas_expiry ON captchas (expires_at);

-- Only the newest code of a mobile and purpose is accepted; mobile and code are keyed hashes.
CREATE TABLE sms_codes (
    id uuid PRIMARY KEY,
    mobile_hash bytea NOT NULL,
    purpose text NOT NULL CHECK (purpose IN ('register', 'reset_password')),
    code_hash bytea NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    failed_attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX sms_codes_latest ON sms_codes (mobile_hash, purpose, created_at DESC);
CREATE INDEX sms_codes_sent ON sms_codes (mobile_hash, created_at DESC);

-- Development SMS sink: the messages that would have been sent, read by GET /dev/sms.
CREATE TABLE dev_sms_messages (
    id bigserial PRIMARY KEY,
    mobile text NOT NULL,
    purpose text NOT NULL,
    code text NOT NULL,
    sent_at timestamptz NOT NULL
);
CREATE INDEX dev_sms_messages_mobile ON dev_sms_messages (mobile, sent_at DESC);

-- Consecutive failed sign-ins per account string (keyed hash), known account or not.
CREATE TABLE sign_in_failures (
    account_hash bytea PRIMARY KEY,
    failures integer NOT NULL,
    last_failed_at timestamptz NOT NULL,
    blocked_until timestamptz
);
