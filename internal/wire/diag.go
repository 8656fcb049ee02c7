package wire

// DiagnosticSettings are the hub's diagnostic settings, as Tether's own
// routes (GET/PUT /v1/diagnosticSettings) show and take them: which log
// categories are recorded (Azure's "logs" list; a category not listed is
// on) and where records go besides the store.
type DiagnosticSettings struct {
	Logs  []DiagnosticLogSetting `json:"logs"`
	Store *bool                  `json:"store,omitempty"` // nil: on
	File  *DiagnosticFile        `json:"file,omitempty"`
	HTTP  *DiagnosticHTTP        `json:"http,omitempty"`
}

// DiagnosticLogSetting turns one log category on or off.
type DiagnosticLogSetting struct {
	Category string `json:"category"`
	Enabled  bool   `json:"enabled"`
}

// DiagnosticFile is the JSON-lines file destination: one
// {"records":[…]} object per line, rotated at maxSizeMB with maxFiles
// rotated files kept.
type DiagnosticFile struct {
	Path      string `json:"path"` // absolute, on the hub's machine
	MaxSizeMB int    `json:"maxSizeMB,omitempty"`
	MaxFiles  int    `json:"maxFiles,omitempty"`
}

// DiagnosticHTTP is the HTTP destination: each batch is POSTed as
// {"records":[…]}.
type DiagnosticHTTP struct {
	URL            string `json:"url"`
	MaxRetries     int    `json:"maxRetries,omitempty"`
	TimeoutSeconds int    `json:"timeoutSeconds,omitempty"`
}
