-- VulnTrack on PostgreSQL with least privilege: an owner role that
-- migrates the schema, and an application role that can only read and
-- write rows (and may only append to the audit log). See OPERATIONS.md.
-- Run with psql as a superuser; replace the two passwords first.
-- (tests/integration/operations.rs runs this file as written.)

CREATE ROLE vulntrack_owner LOGIN PASSWORD 'change-me-owner';
CREATE ROLE vulntrack_app LOGIN PASSWORD 'change-me-app';
CREATE DATABASE vulntrack OWNER vulntrack_owner;

\connect vulntrack

-- Only the owner creates objects; the application may use them.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO vulntrack_owner;
GRANT USAGE ON SCHEMA public TO vulntrack_app;

-- Tables the owner's migrations create, now and later: rows only.
ALTER DEFAULT PRIVILEGES FOR ROLE vulntrack_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vulntrack_app;
ALTER DEFAULT PRIVILEGES FOR ROLE vulntrack_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO vulntrack_app;

-- Once the owner has run `vulntrack migrate` for the first time: the audit
-- log is append-only for the application (its trigger refuses changes for
-- every role as well).
-- REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM vulntrack_app;
