CREATE TABLE notes (id serial PRIMARY KEY, text text NOT NULL);
CREATE TABLE applied (event_id text PRIMARY KEY, count integer NOT NULL DEFAULT 1);
