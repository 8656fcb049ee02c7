package wire

import "time"

// Severities of a diagnosis finding, lowest first.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityError    = "error"
	SeverityCritical = "critical"
)

// SeverityRank orders severities: 0 for none or info, 1 warning, 2 error,
// 3 critical.
func SeverityRank(s string) int {
	switch s {
	case SeverityWarning:
		return 1
	case SeverityError:
		return 2
	case SeverityCritical:
		return 3
	}
	return 0
}

// Diagnosis is the body of GET /v1/diagnose: what the doctor found in
// the connection history of one device or of the whole hub.
type Diagnosis struct {
	DeviceID  string    `json:"deviceId,omitempty"` // "" for the whole hub
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Rows      int       `json:"rows"`                // connection-log rows read
	Truncated bool      `json:"truncated,omitempty"` // more rows than the doctor reads; the oldest were left out
	Devices   int       `json:"devices"`             // devices seen in the rows or the registry
	Highest   string    `json:"highest"`             // the highest severity found; "" for no finding
	Findings  []Finding `json:"findings"`            // most severe first
}

// Finding is one problem, or one notable fact, with its evidence.
type Finding struct {
	Detector string     `json:"detector"` // which detector found it, such as "token-expiry"
	Severity string     `json:"severity"` // info, warning, error or critical
	Title    string     `json:"title"`
	DeviceID string     `json:"deviceId,omitempty"` // "" for hub-wide findings
	Devices  []string   `json:"devices,omitempty"`  // the devices involved in a hub-wide finding
	Cause    string     `json:"cause"`              // the probable cause
	Fix      []string   `json:"fix"`                // what to do, in order
	Code     int        `json:"code,omitempty"`     // the result code the finding is about
	Docs     string     `json:"docs,omitempty"`     // the catalog or docs section to read
	Evidence []Evidence `json:"evidence"`           // the log rows, oldest first
	// More counts the evidence rows left out to keep the finding short.
	More int `json:"moreEvidence,omitempty"`
}

// Evidence is one connection-log row behind a finding.
type Evidence struct {
	Time         time.Time `json:"time"`
	DeviceID     string    `json:"deviceId,omitempty"`
	Operation    string    `json:"operationName"`
	ResultType   string    `json:"resultType,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	ConnectionID string    `json:"connectionId,omitempty"`
	MaskedIP     string    `json:"maskedIpAddress,omitempty"`
	Detail       string    `json:"detail,omitempty"`
	Note         string    `json:"note,omitempty"` // what the doctor read from the row, such as "connected for 59m58s"
}
