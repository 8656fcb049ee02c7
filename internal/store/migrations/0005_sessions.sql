-- 0005: MQTT persistent sessions (CleanSession=0): the subscriptions of
-- each client id, so that they survive a restart of the hub. The Azure
-- SDKs do not subscribe again after a reconnect.
CREATE TABLE mqtt_sessions (
	client_id TEXT    NOT NULL PRIMARY KEY,
	subs      INTEGER NOT NULL,
	updated   TEXT    NOT NULL
) STRICT;
