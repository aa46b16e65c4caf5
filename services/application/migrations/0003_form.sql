-- The form at full depth: idempotent module saves and complete submission snapshots.

-- SHA-256 of the request body of a module's latest save: the same body sent again (a retry) returns
-- the saved module without a new version.
ALTER TABLE modules ADD COLUMN request_hash text;

-- header: who applied, through which unit, for which call, class and level, as submitted.
-- changes: the field-level differences against the previous version (resubmissions only).
ALTER TABLE snapshots ADD COLUMN header jsonb;
ALTER TABLE snapshots ADD COLUMN changes jsonb;
