-- Recommending units (推荐单位), projected from identity's events. A row exists once either event
-- arrived; identity.unit_first_signed_in may arrive before identity.user_registered.
CREATE TABLE units (
    uscc text PRIMARY KEY,
    user_id text,
    unit_name text NOT NULL,
    registered_at timestamptz,
    first_signed_in_at timestamptz
);

-- 人才分类定级报送信息: the unit's own profile. No foreign key to units, because a unit reviewer may
-- save it before the projection has caught up with the unit's registration.
CREATE TABLE unit_profiles (
    uscc text PRIMARY KEY,
    unit_name text,
    unit_nature text,
    region text,
    supervisor text,
    industry text,
    contact_name text,
    contact_phone text,
    address text,
    complete boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL
);

-- Binding requests and their history; a row is never deleted.
CREATE TABLE bindings (
    id uuid PRIMARY KEY,
    person_id text NOT NULL,
    person_name text NOT NULL,
    id_number_masked text,
    uscc text NOT NULL REFERENCES units (uscc),
    unit_name text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'unbound')),
    opinion text,
    requested_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    decided_by text,
    unbound_at timestamptz
);

-- A person holds at most one pending or approved binding; concurrent requests cannot both insert one.
CREATE UNIQUE INDEX bindings_one_active_per_person ON bindings (person_id)
    WHERE status IN ('pending', 'approved');
CREATE INDEX bindings_by_person ON bindings (person_id, requested_at DESC);
CREATE INDEX bindings_by_unit ON bindings (uscc, status, requested_at DESC);
