-- 0001 (telemetry file): the telemetry stream and its consumer groups'
-- offsets. This file is separate from the registry's so that telemetry
-- writes never wait for, or hold up, registry writes.

-- Rows hold a contiguous range of seq: AppendTelemetry assigns the next
-- numbers from telemetry_state, and TrimTelemetry deletes only the oldest.
CREATE TABLE telemetry (
	seq        INTEGER NOT NULL PRIMARY KEY,
	device_id  TEXT    NOT NULL,
	module_id  TEXT    NOT NULL,
	enqueued   INTEGER NOT NULL, -- Unix nanoseconds; 0 is the zero time
	system     TEXT,             -- JSON object; NULL when empty
	properties TEXT,             -- JSON object; NULL when empty
	body       BLOB    NOT NULL
) STRICT;

-- (device_id, seq): an index holds the rowid, which is seq.
CREATE INDEX telemetry_device ON telemetry (device_id);

-- The last seq ever assigned, so that numbers are never reused, even after
-- every row has been trimmed.
CREATE TABLE telemetry_state (
	id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	last_seq INTEGER NOT NULL
) STRICT;
INSERT INTO telemetry_state (id, last_seq) VALUES (1, 0);

CREATE TABLE telemetry_offsets (
	consumer_group TEXT    NOT NULL PRIMARY KEY,
	seq            INTEGER NOT NULL
) STRICT;
