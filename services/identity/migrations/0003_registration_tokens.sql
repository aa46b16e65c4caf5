-- Registration tokens (注册凭证) of two-step personal registration: issued when a register SMS code was
-- accepted, used once by the final step. Only a SHA-256 hash of the token is stored, and the mobile it
-- verified is encrypted under the data key named by data_key_id.
CREATE TABLE registration_tokens (
    id uuid PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    mobile_encrypted bytea NOT NULL,
    data_key_id text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX registration_tokens_expiry ON registration_tokens (expires_at);
