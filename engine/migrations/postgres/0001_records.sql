-- Version 1 of Baton's PostgreSQL schema. Applied once, at the start of the first
-- node, under an advisory lock (engine/src/store/pg.rs); never edited once released:
-- a later change is a new file.

-- Every record, under the key and in the versioned envelope it has in the embedded
-- store. The first byte of a key names its kind (engine/src/store/kind.rs) and the
-- rest orders it, so this primary key's B-tree is the index of every kind: an
-- instance by id, a person's open tasks, a role's queue, open tasks by state and due
-- time, finished tasks by state, timers by due time, webhook attempts by due time.
-- bytea compares byte by byte, as sled orders its keys.
CREATE TABLE baton_records (
    k bytea PRIMARY KEY,
    v bytea NOT NULL
);

-- Ids for new instances and messages, shared by every node.
CREATE SEQUENCE baton_instance_ids;
CREATE SEQUENCE baton_message_ids;
