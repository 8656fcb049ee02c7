-- 0001: the device registry, device twins, shared access policies and hub
-- settings. Times are RFC 3339 text in UTC; JSON columns hold objects.

CREATE TABLE devices (
	id                 TEXT    NOT NULL PRIMARY KEY,
	generation_id      TEXT    NOT NULL,
	version            INTEGER NOT NULL,
	status             TEXT    NOT NULL,
	status_reason      TEXT    NOT NULL,
	status_updated     TEXT    NOT NULL,
	conn_state         TEXT    NOT NULL,
	conn_state_updated TEXT    NOT NULL,
	last_activity      TEXT    NOT NULL,
	c2d_count          INTEGER NOT NULL,
	auth_type          TEXT    NOT NULL,
	primary_key        TEXT    NOT NULL,
	secondary_key      TEXT    NOT NULL,
	primary_thumb      TEXT    NOT NULL,
	secondary_thumb    TEXT    NOT NULL,
	iot_edge           INTEGER NOT NULL,
	created            TEXT    NOT NULL
) STRICT;

CREATE TABLE twins (
	device_id        TEXT    NOT NULL PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	version          INTEGER NOT NULL,
	tags             TEXT    NOT NULL,
	desired          TEXT    NOT NULL,
	desired_version  INTEGER NOT NULL,
	desired_meta     TEXT    NOT NULL,
	reported         TEXT    NOT NULL,
	reported_version INTEGER NOT NULL,
	reported_meta    TEXT    NOT NULL
) STRICT;

CREATE TABLE policies (
	name          TEXT    NOT NULL PRIMARY KEY,
	primary_key   TEXT    NOT NULL,
	secondary_key TEXT    NOT NULL,
	rights        INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
	key   TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
