-- 0002 (logs file): the Alerts table, one row per state change of an
-- alert rule (Inactive, Pending, Fired, Resolved), with Log-Analytics-like
-- columns so that KQL can query it: Alerts | where State == "Fired".
-- Types and the datetime encoding are those of 0001.
CREATE TABLE Alerts (
	TimeGenerated    INTEGER NOT NULL,
	Type             TEXT    NOT NULL DEFAULT 'Alerts',
	TenantId         TEXT    NOT NULL DEFAULT '',
	SourceSystem     TEXT    NOT NULL DEFAULT 'Tether',
	ResourceId       TEXT    NOT NULL DEFAULT '',
	_ResourceId      TEXT    NOT NULL DEFAULT '',
	AlertName        TEXT    NOT NULL DEFAULT '',
	AlertRuleId      TEXT    NOT NULL DEFAULT '',
	Severity         INTEGER NOT NULL DEFAULT 0,
	State            TEXT    NOT NULL DEFAULT '',
	PreviousState    TEXT    NOT NULL DEFAULT '',
	SignalType       TEXT    NOT NULL DEFAULT '',
	MetricName       TEXT    NOT NULL DEFAULT '',
	Aggregation      TEXT    NOT NULL DEFAULT '',
	Operator         TEXT    NOT NULL DEFAULT '',
	Threshold        REAL,
	MetricValue      REAL,
	WindowSize       TEXT    NOT NULL DEFAULT '',
	Query            TEXT    NOT NULL DEFAULT '',
	ResultCount      INTEGER NOT NULL DEFAULT 0,
	Description      TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX Alerts_time ON Alerts (TimeGenerated);
CREATE INDEX Alerts_name ON Alerts (AlertName, TimeGenerated);
