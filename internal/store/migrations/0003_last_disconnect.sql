-- 0003: why and when each device last lost its connection, kept with the
-- registry so that device lists can show it without a log query.
ALTER TABLE devices ADD COLUMN last_disc_time   TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN last_disc_reason TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN last_disc_code   INTEGER NOT NULL DEFAULT 0;
