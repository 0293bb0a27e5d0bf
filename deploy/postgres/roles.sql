-- The sweep's two roles, least privilege (docs/deployment.md, "Database roles", which
-- shows this file as it is: test/docs/roles-sql.test.ts).
--
--   sweep_migrator  runs `sweep migrate`: owns the sweep's tables (deliveries, job_runs,
--                   job_pauses, job_positions, job_holds, console_audit, knex_migrations*) and what
--                   it adds to todos (two columns, four indexes, two triggers, a function).
--   sweep_runner    every job and operator command, and the console: reads todos and workspaces, reads
--                   and writes the sweep's own tables, reads the migrations' bookkeeping
--                   (each run checks the schema is current). No DDL, no other table.
--
-- Part 1 once, as a superuser or a role with CREATEROLE, connected to the todo service's
-- database. Part 2 after every `sweep migrate` (every upgrade), as sweep_migrator (it
-- owns what it grants); it may be run any number of times. A command run as sweep_runner
-- without a grant it needs refuses to start (exit 64) naming the GRANT it misses.

-- Part 1: the roles --------------------------------------------------------------------

create role sweep_migrator login;
create role sweep_runner login;
-- Then their passwords (or your platform's IAM authentication), e.g. with psql's
-- \password sweep_runner, and a DATABASE_URL per role: migrate as sweep_migrator (the
-- migrate Job), everything else as sweep_runner (the CronJobs, the console).

grant usage, create on schema public to sweep_migrator;
grant usage on schema public to sweep_runner;
-- PostgreSQL 14 and older let every role create tables in public; 15 and later do not.
-- revoke create on schema public from public;

-- todos belongs to the todo service. PostgreSQL lets only its owner add columns, indexes
-- and triggers to it: the migrator becomes a member of the role that owns it. Write that
-- role's name for todo_service (psql: \dt todos). Leave this out only where there is no
-- todos yet (the migrations then create it, owned by the migrator).
grant todo_service to sweep_migrator;

-- Part 2: what the commands may do, after every `sweep migrate` ------------------------

grant select on todos to sweep_runner;
-- The todo service's workspaces, for each one's time zone (created by the migration
-- 20261207100000_workspaces only where the service has none).
grant select on workspaces to sweep_runner;
grant select, insert, update, delete on deliveries, job_runs, job_pauses, job_positions, job_holds to sweep_runner;
grant select on knex_migrations, knex_migrations_lock to sweep_runner;
-- The audit of operators' changes (pause, resume, deliveries retry, the console): written
-- with each change, never changed after; its id comes from its sequence.
grant select, insert on console_audit to sweep_runner;
grant usage on sequence console_audit_id_seq to sweep_runner;
