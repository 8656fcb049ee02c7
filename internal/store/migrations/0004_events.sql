-- 0004: lifecycle-event subscriptions (webhooks), the outbox of events
-- waiting for each subscription, and the record of every delivery
-- attempt. Times that are compared (next_attempt, done, time) are RFC 3339
-- with exactly nine fraction digits, so that they compare as text.

CREATE TABLE event_subscriptions (
	name         TEXT    NOT NULL PRIMARY KEY,
	url          TEXT    NOT NULL,
	types        TEXT    NOT NULL,            -- ",DeviceConnected,DeviceDeleted,"
	schema       TEXT    NOT NULL,            -- eventgrid or cloudevents
	secret       TEXT    NOT NULL,            -- the HMAC key of the signature header
	created      TEXT    NOT NULL,
	updated      TEXT    NOT NULL,
	failures     INTEGER NOT NULL DEFAULT 0,  -- consecutive failed attempts
	next_attempt TEXT    NOT NULL DEFAULT ''  -- back-off: no attempt before; '' when none
) STRICT;

-- One row per event and subscription that wants it, written before any
-- attempt to deliver it.
CREATE TABLE event_outbox (
	seq          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, -- never reused: the delivery order
	subscription TEXT    NOT NULL REFERENCES event_subscriptions (name) ON DELETE CASCADE,
	event_id     TEXT    NOT NULL,            -- the same for every subscription
	event_type   TEXT    NOT NULL,            -- DeviceConnected, ...
	subject      TEXT    NOT NULL,            -- devices/{deviceId}
	event_time   TEXT    NOT NULL,
	data         BLOB    NOT NULL,            -- the event's data member, JSON
	created      TEXT    NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	state        TEXT    NOT NULL DEFAULT 'pending', -- pending, delivered or dead
	done         TEXT    NOT NULL DEFAULT ''  -- when it was delivered or given up
) STRICT;

CREATE INDEX event_outbox_subscription ON event_outbox (subscription, state, seq);
CREATE INDEX event_outbox_done ON event_outbox (done) WHERE state <> 'pending';

-- Every delivery attempt; kept after its subscription is deleted.
CREATE TABLE event_deliveries (
	id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	subscription TEXT    NOT NULL,
	time         TEXT    NOT NULL,
	attempt      INTEGER NOT NULL,            -- 1 for a first attempt
	event_ids    TEXT    NOT NULL,            -- space-separated
	status       INTEGER NOT NULL,            -- the HTTP status; 0 when there was no answer
	error        TEXT    NOT NULL,
	latency_ns   INTEGER NOT NULL,
	outcome      TEXT    NOT NULL,            -- delivered, retry or dead
	next_attempt TEXT    NOT NULL             -- for retry: when; else ''
) STRICT;

CREATE INDEX event_deliveries_subscription ON event_deliveries (subscription, id);
CREATE INDEX event_deliveries_time ON event_deliveries (time);
