package wire

import "time"

// Ban is a temporary ban after repeated authentication failures, as
// GET /v1/bans lists it.
type Ban struct {
	Kind     string    `json:"kind"`    // "ip" or "device"
	Subject  string    `json:"subject"` // the source address (unmasked) or the device id
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	Failures int       `json:"failures"` // authentication failures within the window that caused it
	Refused  int       `json:"refused"`  // connects refused during the ban so far
}

// BanList is the body of GET /v1/bans.
type BanList struct {
	Bans []Ban `json:"bans"`
}
