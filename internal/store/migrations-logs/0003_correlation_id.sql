-- 0003 (logs file): AzureDiagnostics gains Log Analytics' CorrelationId
-- column (the W3C trace context of DistributedTracing rows,
-- 00-<trace>-<span>-01), which the documented distributed-tracing queries
-- project and filter. Rows that carry none hold ''.
ALTER TABLE AzureDiagnostics ADD COLUMN CorrelationId TEXT NOT NULL DEFAULT '';
