-- Projections and records behind the eligibility check (条件自检).

-- A pending binding request is projected too, so that 条件自检 can tell "awaiting the unit" apart
-- from "not bound". A row may start from any of its events.
ALTER TABLE bindings ADD COLUMN requested_at timestamptz;
CREATE INDEX bindings_pending ON bindings (person_id, requested_at DESC)
    WHERE approved_at IS NULL AND ended_at IS NULL;

-- unit.profile_completed carries the profile's version; a row keeps the highest version it saw.
ALTER TABLE units ADD COLUMN version integer NOT NULL DEFAULT 0;

-- Persons from identity.user_registered: the keyed hash of their ID number matches imported gradings.
CREATE TABLE persons (
    person_id text PRIMARY KEY,
    real_name text,
    id_number_hash text,
    registered_at timestamptz NOT NULL
);
CREATE INDEX persons_by_id_number_hash ON persons (id_number_hash);

-- Historical gradings imported by an admin from CSV. Only the keyed hash and the masked form of the
-- ID number are kept. Importing the same grading again adds nothing.
CREATE TABLE grading_imports (
    import_id uuid PRIMARY KEY,
    imported_by text NOT NULL,
    rows integer NOT NULL,
    imported integer NOT NULL,
    already_known integer NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE historical_gradings (
    grading_id bigserial PRIMARY KEY,
    import_id uuid NOT NULL REFERENCES grading_imports,
    row_number integer NOT NULL,
    real_name text NOT NULL,
    id_number_hash text NOT NULL,
    id_number_masked text NOT NULL,
    talent_class text NOT NULL CHECK (talent_class IN ('A', 'B', 'C', 'D', 'E')),
    level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
    graded_on date NOT NULL,
    UNIQUE (id_number_hash, graded_on, talent_class, level)
);
CREATE INDEX historical_gradings_by_person ON historical_gradings (id_number_hash, graded_on DESC);

-- 晋级申报申请: filed by the person, forwarded by their unit, decided by the department.
CREATE TABLE promotion_requests (
    request_id uuid PRIMARY KEY,
    person_id text NOT NULL,
    person_name text NOT NULL,
    id_number_masked text,
    uscc text NOT NULL,
    unit_name text NOT NULL,
    -- The grading the request is about; an approval covers gradings up to this date.
    graded_on date NOT NULL,
    current_class text,
    current_level integer,
    talent_class text NOT NULL CHECK (talent_class IN ('A', 'B', 'C', 'D', 'E')),
    level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
    reason text NOT NULL,
    status text NOT NULL
        CHECK (status IN ('pending_unit', 'pending_department', 'approved', 'rejected')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    unit_opinion text,
    forwarded_at timestamptz,
    forwarded_by text,
    department_opinion text,
    decided_at timestamptz,
    decided_by text,
    rejected_stage text CHECK (rejected_stage IN ('unit', 'department'))
);
-- At most one open request per person; concurrent filings cannot both insert one.
CREATE UNIQUE INDEX promotion_requests_one_open ON promotion_requests (person_id)
    WHERE status IN ('pending_unit', 'pending_department');
CREATE INDEX promotion_requests_by_person ON promotion_requests (person_id, requested_at DESC);
CREATE INDEX promotion_requests_by_unit ON promotion_requests (uscc, status, requested_at DESC, request_id DESC);
CREATE INDEX promotion_requests_by_status ON promotion_requests (status, requested_at DESC, request_id DESC);
