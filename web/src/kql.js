// KQL highlighting for the log search editor, and the documented IoT Hub
// queries (shared/spec/kql-corpus.md, Q01–Q14).

const keywords = new Set(('where extend project project-away project-rename summarize order sort by asc desc take limit top distinct count ' +
  'render search join union let in and or not has contains startswith endswith matches regex between kind on with nulls first last ' +
  'has_any has_all !has !contains !in in~ !in~ contains_cs has_cs timechart columnchart barchart piechart table getschema parse mv-expand make-series').split(' '));
const tables = new Set(['AzureDiagnostics', 'AzureMetrics', 'Alerts']);

// tokens splits text into [kind, text] pairs that cover it exactly.
export function tokens(text) {
  const out = [];
  const re = /(\/\/[^\n]*)|(@?"(?:[^"\\\n]|\\.)*"?|@?'(?:[^'\\\n]|\\.)*'?)|(\b\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|s|m|h|d|tick|microsecond|millisecond|second|minute|hour|day)?\b)|([A-Za-z_$][\w$]*(?:-(?:away|rename|reorder|keep|expand|series|apply))?)|(\|)|(==|!=|=~|!~|<=|>=|[<>=+\-*/%(),.;!~\[\]{}:])|(\s+)|(.)/gsy;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m[0] === '') break;
    let kind = 'plain';
    if (m[1]) kind = 'comment';
    else if (m[2]) kind = 'string';
    else if (m[3]) kind = 'number';
    else if (m[4]) {
      const w = m[4];
      const next = text.slice(re.lastIndex).match(/^\s*\(/);
      if (tables.has(w)) kind = 'table';
      else if (keywords.has(w)) kind = 'keyword';
      else if (next) kind = 'function';
      else kind = 'ident';
    } else if (m[5]) kind = 'pipe';
    else if (m[6]) kind = 'op';
    out.push([kind, m[0]]);
  }
  return out;
}

// offsetOf converts a 1-based line and column into a string offset.
export function offsetOf(text, line, col) {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(text.length, off + Math.max(0, col - 1));
}

export const samples = [
  ['Q01', 'Connectivity errors', `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Connections" and Level == "Error"`],
  ['Q02', 'Devices with most throttling errors', `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where ResultType == "429001"
| extend DeviceId = tostring(parse_json(properties_s).deviceId)
| summarize count() by DeviceId, Category , _ResourceId
| order by count_ desc`],
  ['Q03', 'Dead endpoints', `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Routes" and OperationName in ("endpointDead", "endpointUnhealthy")
| extend parsed_json = parse_json(properties_s)
| extend Endpoint   = tostring(parsed_json.endpointName), Reason =tostring(parsed_json.details) 
| summarize count() by Endpoint, OperationName, Reason, _ResourceId
| order by count_ desc`],
  ['Q04', 'Error summary', `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Level == "Error"
| summarize count() by ResultType, ResultDescription, Category, _ResourceId`],
  ['Q05', 'Recently connected devices', `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Connections" and OperationName == "deviceConnect"
| extend DeviceId = tostring(parse_json(properties_s).deviceId)
| summarize max(TimeGenerated) by DeviceId, _ResourceId`],
  ['Q06', 'SDK version of devices (connections and twin operations)', `// this query works on device connection or when your device uses device to cloud twin operations
AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Connections" or  Category == "D2CTwinOperations"
| extend parsed_json = parse_json(properties_s) 
| extend SDKVersion = tostring(parsed_json.sdkVersion) , DeviceId = tostring(parsed_json.deviceId)
| distinct DeviceId, SDKVersion, TimeGenerated, _ResourceId`],
  ['Q07', 'Connection events for a specific device', `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Connections"
| extend DeviceId = tostring(parse_json(properties_s).deviceId)
| where DeviceId == "test-device"`],
  ['Q08', 'SDK version of devices (connections only)', `// SDK version of devices
// List of devices and their SDK versions that connect to IoT Hub
AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Connections"
| extend parsed_json = parse_json(properties_s) 
| extend SDKVersion = tostring(parsed_json.sdkVersion) , DeviceId = tostring(parsed_json.deviceId)
| distinct DeviceId, SDKVersion, TimeGenerated, _ResourceId`],
  ['Q09', 'Isolate connectivity error logs', `AzureDiagnostics
| where ( ResourceType == "IOTHUBS" and Category == "Connections" and Level == "Error")`],
  ['Q10', 'Isolate connectivity error logs (search *)', `search *
| where ( Type == "AzureDiagnostics" and ResourceType == "IOTHUBS")
| where ( Category == "Connections" and Level == "Error")`],
  ['Q11', 'Connect/disconnect timeline with protocol and SDK', `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Connections"
| extend parsed_json = parse_json(properties_s)
| extend SDKVersion = tostring(parsed_json.sdkVersion) , DeviceId = tostring(parsed_json.deviceId) , Protocol =  tostring(parsed_json.protocol)
| distinct TimeGenerated, OperationName, Level, ResultType, ResultDescription, DeviceId, Protocol, SDKVersion`],
  ['Q12', 'All distributed traces', `// All distributed traces 
AzureDiagnostics 
| where Category == "DistributedTracing" 
| project TimeGenerated, Category, OperationName, Level, CorrelationId, DurationMs, properties_s 
| order by TimeGenerated asc  `],
  ['Q13', 'Life cycle of one traced message (broken as published)', `AzureDiagnostics
| where category == "DistributedTracing" and CorrelationId contains "8cd869a412459a25f5b4f31311223344"`],
  ['Q14', 'TLS version used by each connecting device', `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Connections"
| where OperationName == "deviceConnect"
| extend props_json = parse_json(properties_s)
| project DeviceId = props_json.deviceId, TLSVersion = props_json.tlsVersion`],
  ['Chart', 'Disconnects per hour by reason (timechart)', `AzureDiagnostics
| where Category == "Connections" and OperationName == "deviceDisconnect"
| extend Reason = tostring(parse_json(properties_s).reason)
| summarize count() by bin(TimeGenerated, 1h), Reason
| render timechart`],
  ['Chart', 'Errors by result code (columnchart)', `AzureDiagnostics
| where Category == "Connections" and Level == "Error"
| summarize count() by ResultType
| render columnchart`],
];
