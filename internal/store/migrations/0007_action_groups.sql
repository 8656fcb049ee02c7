-- 0007: action groups (named lists of alert notification receivers), the
-- outbox of notifications waiting for each receiver, and the record of
-- every delivery attempt. Compared times (next_attempt, done, time) are
-- RFC 3339 with exactly nine fraction digits, so that they compare as
-- text.

CREATE TABLE action_groups (
	name      TEXT NOT NULL PRIMARY KEY,
	receivers TEXT NOT NULL,            -- JSON: [{"kind":"webhook","target":"https://..."}, ...]
	secret    TEXT NOT NULL,            -- the HMAC key of the webhooks' signature header
	created   TEXT NOT NULL,
	updated   TEXT NOT NULL
) STRICT;

-- One row per notification and receiver, written before any attempt to
-- send it. A receiver's notifications go out one at a time, oldest first.
CREATE TABLE notify_outbox (
	id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	action_group TEXT    NOT NULL REFERENCES action_groups (name) ON DELETE CASCADE,
	kind         TEXT    NOT NULL,            -- webhook, alertmanager or email
	target       TEXT    NOT NULL,            -- the URL or address, unredacted
	alert_id     TEXT    NOT NULL,            -- the same for a rule's Fired and Resolved
	rule         TEXT    NOT NULL,
	condition    TEXT    NOT NULL,            -- Fired, Resolved or Test
	alert        BLOB    NOT NULL,            -- the notify.Alert, JSON
	created      TEXT    NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt TEXT    NOT NULL DEFAULT '', -- back-off: no attempt before
	state        TEXT    NOT NULL DEFAULT 'pending', -- pending, delivered or dead
	done         TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX notify_outbox_queue ON notify_outbox (state, action_group, kind, target, id);
CREATE INDEX notify_outbox_done ON notify_outbox (done) WHERE state <> 'pending';

-- Every attempt, kept after its action group is deleted. target is
-- redacted (no query values, no password).
CREATE TABLE notify_attempts (
	id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	delivery     INTEGER NOT NULL,            -- the outbox row; 0 for a test sent at once
	action_group TEXT    NOT NULL,
	kind         TEXT    NOT NULL,
	target       TEXT    NOT NULL,
	alert_id     TEXT    NOT NULL,
	rule         TEXT    NOT NULL,
	condition    TEXT    NOT NULL,
	time         TEXT    NOT NULL,
	attempt      INTEGER NOT NULL,            -- 1 for a first attempt
	status       INTEGER NOT NULL,            -- HTTP or SMTP status; 0 when there was no answer
	error        TEXT    NOT NULL,
	latency_ns   INTEGER NOT NULL,
	outcome      TEXT    NOT NULL,            -- delivered, retry or dead
	next_attempt TEXT    NOT NULL
) STRICT;

CREATE INDEX notify_attempts_group ON notify_attempts (action_group, id);
CREATE INDEX notify_attempts_time ON notify_attempts (time);
