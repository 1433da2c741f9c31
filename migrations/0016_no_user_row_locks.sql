-- A task, its reservation and its charge no longer lock their user's row. Each foreign key to
-- users took a KEY SHARE lock on it for the rest of the inserting transaction, so with one API
-- key for a whole product every submission, attempt start and charge locked the same row:
-- PostgreSQL then records the lockers in a new MultiXact per insert (WAL, SLRU pages and a
-- rewrite of the row's page each time), the hot row that throughput work is meant to remove,
-- and MultiXact space a busy tenant uses up. Users are never deleted, a task is only inserted
-- joined to its user's row (TaskStore.create), and reservations and charges copy the user of
-- their task, so the keys guarded nothing the code does not.
ALTER TABLE tasks DROP CONSTRAINT tasks_user_id_fkey;
ALTER TABLE reservations DROP CONSTRAINT reservations_user_id_fkey;
ALTER TABLE charges DROP CONSTRAINT charges_user_id_fkey;
