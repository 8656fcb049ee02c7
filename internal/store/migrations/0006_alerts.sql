-- 0006: alert rules. The rule's definition and its state are JSON that
-- internal/alert writes and reads; the store only keeps them. The
-- history of state changes is in the logs file (the Alerts table).

CREATE TABLE alert_rules (
	name    TEXT NOT NULL PRIMARY KEY,
	spec    TEXT NOT NULL,              -- the rule, as the API shows it (JSON)
	status  TEXT NOT NULL DEFAULT '',   -- its state machine's state (JSON)
	created TEXT NOT NULL,
	updated TEXT NOT NULL
) STRICT;
