-- Where a session was opened: 'web' (a browser, the default) or 'app' (the mobile app, 掌上办事).
-- Only an app session may scan and confirm a QR sign-in ticket.
ALTER TABLE sessions
    ADD COLUMN channel text NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'app'));
