-- Serial numbers of certificates, shared by the certificate number and the licence identifier.
CREATE SEQUENCE certificate_serial;

-- Electronic certificates (电子证书): one per graded application.
CREATE TABLE certificates (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL UNIQUE,
    result_id uuid NOT NULL,
    person_id text NOT NULL,
    serial bigint NOT NULL UNIQUE,
    certificate_number text NOT NULL UNIQUE,
    -- GB/T 36904 licence identifier (证照标识).
    identifier text NOT NULL UNIQUE,
    verification_code text NOT NULL UNIQUE,
    holder_name text NOT NULL,
    id_number_masked text NOT NULL,
    talent_class text NOT NULL CHECK (talent_class IN ('A', 'B', 'C', 'D', 'E')),
    class_label text NOT NULL,
    level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
    issuer_name text NOT NULL,
    issued_on date NOT NULL,
    issued_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    pdf_key text NOT NULL,
    pdf_sha256 text NOT NULL CHECK (pdf_sha256 ~ '^[0-9a-f]{64}$'),
    pdf_size integer NOT NULL CHECK (pdf_size > 0)
);
CREATE INDEX certificates_by_person ON certificates (person_id, issued_at DESC);
