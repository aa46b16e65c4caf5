-- Calls for applications (通知) published by the department.
CREATE TABLE calls (
    call_id uuid PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    classes text[] NOT NULL,
    opens_at timestamptz NOT NULL,
    closes_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'closed')),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    closed_at timestamptz,
    CHECK (closes_at > opens_at)
);

-- Projection of binding events, one row per binding: approval and ending are separate columns, so
-- the events commute and a late or repeated event cannot revive an ended binding.
CREATE TABLE bindings (
    binding_id text PRIMARY KEY,
    person_id text NOT NULL,
    uscc text NOT NULL,
    unit_name text,
    approved_at timestamptz,
    ended_at timestamptz
);
CREATE INDEX bindings_active ON bindings (person_id, approved_at DESC)
    WHERE approved_at IS NOT NULL AND ended_at IS NULL;

-- Projection of unit.profile_completed: 单位性质 and whether the 人才分类定级报送信息 is complete.
CREATE TABLE units (
    uscc text PRIMARY KEY,
    unit_name text NOT NULL,
    unit_nature text,
    complete boolean NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Passing results of review.result_recorded, for the rule on persons graded in the last three years.
CREATE TABLE gradings (
    result_id text PRIMARY KEY,
    person_id text NOT NULL,
    application_id text NOT NULL,
    talent_class text,
    level integer,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX gradings_person ON gradings (person_id, recorded_at DESC);

CREATE TABLE applications (
    application_id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES calls,
    person_id text NOT NULL,
    person_name text NOT NULL,
    id_number_masked text,
    uscc text NOT NULL,
    unit_name text NOT NULL,
    unit_nature text,
    status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'material_approved', 'returned', 'terminated')),
    -- Who acts next: unit, department, evaluation (offline panel), applicant, or nobody (NULL).
    pending_stage text,
    returned_stage text,
    return_opinion text,
    returned_modules text[] NOT NULL DEFAULT '{}',
    result jsonb,
    snapshot_version integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    UNIQUE (person_id, call_id)
);

CREATE TABLE modules (
    application_id uuid NOT NULL REFERENCES applications ON DELETE CASCADE,
    module text NOT NULL,
    content jsonb NOT NULL,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, module)
);

-- Each submission as reviewers see it; never changed after it is written.
CREATE TABLE snapshots (
    application_id uuid NOT NULL REFERENCES applications,
    version integer NOT NULL,
    modules jsonb NOT NULL,
    files jsonb NOT NULL,
    changed_modules text[],
    submitted_at timestamptz NOT NULL,
    PRIMARY KEY (application_id, version)
);

CREATE FUNCTION reject_snapshot_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'submission snapshots are immutable';
END
$$;
CREATE TRIGGER snapshots_immutable BEFORE UPDATE OR DELETE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION reject_snapshot_change();

-- Flow nodes (流程推送) shown to the applicant: submissions and reviewers' decisions.
CREATE TABLE flow_nodes (
    node_id bigserial PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications,
    node text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    opinion text,
    at timestamptz NOT NULL
);
CREATE INDEX flow_nodes_application ON flow_nodes (application_id, at);
