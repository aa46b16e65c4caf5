-- Review tasks: one row per stage an application passes through (推荐单位审核, then 业务部门审核).
CREATE TABLE tasks (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL,
    stage text NOT NULL CHECK (stage IN ('unit', 'department')),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    call_id text,
    person_id text NOT NULL,
    person_name text NOT NULL,
    id_number_masked text NOT NULL,
    uscc text NOT NULL,
    unit_name text NOT NULL,
    talent_class text NOT NULL CHECK (talent_class IN ('A', 'B', 'C', 'D', 'E')),
    level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
    snapshot_version integer NOT NULL,
    snapshot jsonb NOT NULL,
    submitted_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    decision text CHECK (decision IN ('approve', 'return', 'terminate')),
    opinion text,
    modules text[] NOT NULL DEFAULT '{}',
    reviewer_id text,
    reviewer_name text,
    decided_at timestamptz,
    CHECK ((status = 'pending') = (decision IS NULL))
);
-- An application waits in at most one queue at a time.
CREATE UNIQUE INDEX tasks_one_pending_per_application ON tasks (application_id) WHERE status = 'pending';
CREATE INDEX tasks_by_application ON tasks (application_id, created_at);
CREATE INDEX tasks_unit_queue ON tasks (uscc, status, created_at) WHERE stage = 'unit';
CREATE INDEX tasks_department_queue ON tasks (status, created_at) WHERE stage = 'department';

-- Evaluation result types (评审结果), kept as data because the department may change them.
-- grade_rule: 'as_applied' requires the class and level applied for, 'changed' requires another
-- class or level, 'any' takes whatever the department records.
CREATE TABLE result_types (
    code text PRIMARY KEY,
    label_zh text NOT NULL,
    label_en text NOT NULL,
    passing boolean NOT NULL,
    grade_rule text NOT NULL CHECK (grade_rule IN ('as_applied', 'changed', 'any')),
    position integer NOT NULL
);
INSERT INTO result_types (code, label_zh, label_en, passing, grade_rule, position) VALUES
    ('approved', '认定通过', 'Graded as applied', true, 'as_applied', 1),
    ('adjusted', '调整认定', 'Graded at another class or level', true, 'changed', 2),
    ('not_approved', '不予认定', 'Not graded', false, 'any', 3);

-- One evaluation result per application, recorded after the offline expert panel.
CREATE TABLE results (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL UNIQUE,
    result text NOT NULL REFERENCES result_types (code),
    talent_class text NOT NULL CHECK (talent_class IN ('A', 'B', 'C', 'D', 'E')),
    level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
    recorded_by text NOT NULL,
    recorder_name text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
