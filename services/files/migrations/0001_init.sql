-- Attachment metadata; the bytes are in object storage under object_key.
CREATE TABLE files (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL,
    kind text NOT NULL,
    -- The module entry (for example one 继续教育(培训)经历) the file proves; NULL for material kinds.
    entry_id text,
    -- Copied from the application at upload time, for access checks without calling the application service.
    person_id text NOT NULL,
    uscc text,
    file_name text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL CHECK (size > 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    object_key text NOT NULL UNIQUE,
    uploaded_by text NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_slot ON files (application_id, kind, entry_id);

-- Every read of a file's metadata or content. Rows outlive the file they name, so there is no foreign key.
CREATE TABLE file_reads (
    id bigserial PRIMARY KEY,
    file_id uuid NOT NULL,
    application_id uuid NOT NULL,
    user_id text NOT NULL,
    role text NOT NULL,
    access text NOT NULL CHECK (access IN ('metadata', 'download', 'preview')),
    read_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX file_reads_file ON file_reads (file_id, read_at);
CREATE INDEX file_reads_user ON file_reads (user_id, read_at);
