-- 0001 (logs file): the diagnostic log table and the metric samples, with
-- Log Analytics' table and column names, so that KQL written for Azure
-- compiles to SQL over them with no renaming.
--
-- Types, as the KQL compiler maps them:
--   string   -> TEXT NOT NULL DEFAULT '' (KQL strings have no null: a
--               missing string is the empty string)
--   long     -> INTEGER (DurationMs: NULL when the record has none)
--   real     -> REAL
--   datetime -> INTEGER: Unix nanoseconds, UTC, a multiple of 100 (Kusto's
--               100 ns tick), so comparisons are integer comparisons and
--               bin(t, size) is t - t % size for t >= 0.
-- The hub-wide columns (ResourceId, SubscriptionId, ...) are stored in
-- every row, as written, so the table is plain to query and a row keeps
-- the resource it was logged under.

-- AzureDiagnostics: one row per resource-log record. Insertion order is
-- rowid order; TrimLogs deletes by TimeGenerated through its index.
-- Columns starting with '_' other than _ResourceId are Tether's hidden
-- helpers, not part of Azure's schema: _DeviceId (the record's device)
-- and _Reason (the precise cause of a disconnect or refusal).
-- SQLite folds the case of column names: no two names here differ only in
-- case.
CREATE TABLE AzureDiagnostics (
	TimeGenerated     INTEGER NOT NULL,
	Type              TEXT    NOT NULL DEFAULT 'AzureDiagnostics',
	TenantId          TEXT    NOT NULL DEFAULT '',
	SourceSystem      TEXT    NOT NULL DEFAULT 'Azure',
	ResourceId        TEXT    NOT NULL DEFAULT '',
	_ResourceId       TEXT    NOT NULL DEFAULT '',
	SubscriptionId    TEXT    NOT NULL DEFAULT '',
	ResourceGroup     TEXT    NOT NULL DEFAULT '',
	Resource          TEXT    NOT NULL DEFAULT '',
	ResourceProvider  TEXT    NOT NULL DEFAULT 'MICROSOFT.DEVICES',
	ResourceType      TEXT    NOT NULL DEFAULT 'IOTHUBS',
	Category          TEXT    NOT NULL DEFAULT '',
	OperationName     TEXT    NOT NULL DEFAULT '',
	Level             TEXT    NOT NULL DEFAULT '',
	ResultType        TEXT    NOT NULL DEFAULT '',
	ResultDescription TEXT    NOT NULL DEFAULT '',
	DurationMs        INTEGER,
	properties_s      TEXT    NOT NULL DEFAULT '',
	location          TEXT    NOT NULL DEFAULT '',
	_DeviceId         TEXT    NOT NULL DEFAULT '',
	_Reason           TEXT    NOT NULL DEFAULT ''
) STRICT;

-- The time picker's filter, ago(), trimming.
CREATE INDEX AzureDiagnostics_time ON AzureDiagnostics (TimeGenerated);
-- One device's records over time.
CREATE INDEX AzureDiagnostics_device ON AzureDiagnostics (_DeviceId, TimeGenerated);
-- One category over time (every documented query filters Category).
CREATE INDEX AzureDiagnostics_category ON AzureDiagnostics (Category, TimeGenerated);

-- AzureMetrics: one row per metric and time grain (PT1M), as Azure
-- exports platform metrics. Total, Count, Minimum, Maximum and Average are
-- real in Log Analytics, Count included.
CREATE TABLE AzureMetrics (
	TimeGenerated    INTEGER NOT NULL,
	Type             TEXT    NOT NULL DEFAULT 'AzureMetrics',
	TenantId         TEXT    NOT NULL DEFAULT '',
	SourceSystem     TEXT    NOT NULL DEFAULT 'Azure',
	ResourceId       TEXT    NOT NULL DEFAULT '',
	_ResourceId      TEXT    NOT NULL DEFAULT '',
	SubscriptionId   TEXT    NOT NULL DEFAULT '',
	ResourceGroup    TEXT    NOT NULL DEFAULT '',
	Resource         TEXT    NOT NULL DEFAULT '',
	ResourceProvider TEXT    NOT NULL DEFAULT 'MICROSOFT.DEVICES',
	MetricName       TEXT    NOT NULL DEFAULT '',
	Total            REAL,
	Count            REAL,
	Minimum          REAL,
	Maximum          REAL,
	Average          REAL,
	TimeGrain        TEXT    NOT NULL DEFAULT '',
	UnitName         TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX AzureMetrics_time ON AzureMetrics (TimeGenerated);
CREATE INDEX AzureMetrics_name ON AzureMetrics (MetricName, TimeGenerated);
