-- What changed in a resubmission, shown to the reviewers of the task it reopens: the modules and the
-- field-level changes against the previous snapshot version (application.resubmitted). A task opened
-- for a first submission has none.
ALTER TABLE tasks ADD COLUMN changed_modules text[] NOT NULL DEFAULT '{}';
ALTER TABLE tasks ADD COLUMN changes jsonb NOT NULL DEFAULT '[]';
