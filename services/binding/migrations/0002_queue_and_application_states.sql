-- The unit's queue pages by (requested_at, id), newest first.
DROP INDEX bindings_by_unit;
CREATE INDEX bindings_by_unit ON bindings (uscc, status, requested_at DESC, id DESC);

-- Applications through a unit that are under review, projected from application and review events
-- for the unbinding rule. Submission and the end of review are separate columns, so the events
-- commute: an end that arrives before the submission it follows still ends the review.
CREATE TABLE applications (
    application_id text PRIMARY KEY,
    person_id text,
    uscc text,
    submitted_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX applications_under_review ON applications (person_id, uscc)
    WHERE submitted_at IS NOT NULL AND finished_at IS NULL;
