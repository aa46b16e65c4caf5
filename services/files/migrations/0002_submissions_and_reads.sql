-- Projection of application.submitted and application.resubmitted: the unit (推荐单位) an application was
-- submitted through, which decides the unit reviewers who may read its files.
CREATE TABLE submitted_applications (
    application_id uuid PRIMARY KEY,
    person_id text NOT NULL,
    uscc text NOT NULL,
    submitted_at timestamptz NOT NULL
);

-- Applicants see who read their files: the reader's name and unit, and the file's name and kind, which
-- stay after the file is deleted. Listing an application's files counts as a read of each file.
ALTER TABLE file_reads
    ADD COLUMN file_name text NOT NULL DEFAULT '',
    ADD COLUMN kind text NOT NULL DEFAULT '',
    ADD COLUMN user_name text NOT NULL DEFAULT '',
    ADD COLUMN unit_uscc text;
ALTER TABLE file_reads DROP CONSTRAINT file_reads_access_check;
ALTER TABLE file_reads ADD CONSTRAINT file_reads_access_check
    CHECK (access IN ('list', 'metadata', 'download', 'preview'));
CREATE INDEX file_reads_application ON file_reads (application_id, read_at);
