-- 0002: the cloud-to-device queue. Its times are RFC 3339 text in UTC with
-- exactly nine fraction digits, so that they compare correctly as text.
-- The telemetry stream lives in its own file (migrations-telemetry).

CREATE TABLE c2d (
	seq              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, -- never reused
	device_id        TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	message_id       TEXT    NOT NULL,
	correlation_id   TEXT    NOT NULL,
	user_id          TEXT    NOT NULL,
	content_type     TEXT    NOT NULL,
	content_encoding TEXT    NOT NULL,
	ack              TEXT    NOT NULL,
	enqueued         TEXT    NOT NULL,
	expiry           TEXT    NOT NULL,
	properties       TEXT,             -- JSON object; NULL when empty
	body             BLOB    NOT NULL,
	delivery_count   INTEGER NOT NULL
) STRICT;

CREATE INDEX c2d_device ON c2d (device_id, expiry);
CREATE INDEX c2d_expiry ON c2d (expiry);

-- devices.c2d_count is the number of messages queued for the device, as
-- Azure's cloudToDeviceMessageCount: these triggers keep it so on every
-- insert and delete, whichever statement makes it.
UPDATE devices SET c2d_count = 0;

CREATE TRIGGER c2d_count_insert AFTER INSERT ON c2d BEGIN
	UPDATE devices SET c2d_count = c2d_count + 1 WHERE id = NEW.device_id;
END;

CREATE TRIGGER c2d_count_delete AFTER DELETE ON c2d BEGIN
	UPDATE devices SET c2d_count = max(c2d_count - 1, 0) WHERE id = OLD.device_id;
END;
