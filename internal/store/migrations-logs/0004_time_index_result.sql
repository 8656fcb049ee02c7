-- 0004 (logs file): the time index carries ResultType too, so that the
-- most common aggregate over the connection log, summarize count() by
-- ResultType, bin(TimeGenerated, …), reads the index alone instead of
-- looking up every ~1 KB row (about 4x faster on 1,000,000 rows; see
-- docs/benchmarks.md, "KQL log search"). It still serves the time
-- picker's filter, ago() and trimming, and keeps its name, for a few
-- more bytes per row.
DROP INDEX AzureDiagnostics_time;
CREATE INDEX AzureDiagnostics_time ON AzureDiagnostics (TimeGenerated, ResultType);
