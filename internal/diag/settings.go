package diag

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tether-iot/tether"
)

// Categories are the log categories Tether records, in Azure's order.
var Categories = []string{
	tether.CategoryConnections,
	tether.CategoryDeviceIdentityOperations,
	tether.CategoryDirectMethods,
	tether.CategoryD2CTwinOperations,
	tether.CategoryC2DTwinOperations,
	tether.CategoryC2DCommands,
	tether.CategoryDeviceTelemetry,
}

// Defaults of the destinations.
const (
	DefaultFileMaxSizeMB = 100
	DefaultFileMaxFiles  = 5
	DefaultHTTPRetries   = 3
	DefaultHTTPTimeout   = 10 // seconds
)

// Settings are the hub's diagnostic settings: which categories are
// recorded, and where records go. The store is the primary destination;
// the file and HTTP destinations are best effort. Their JSON is what the
// hub stores and what GET/PUT /v1/diagnosticSettings exchange.
type Settings struct {
	// Logs turns categories on and off, as Azure's diagnostic settings
	// do; a category that is not listed is on.
	Logs  []CategorySetting `json:"logs"`
	Store *bool             `json:"store,omitempty"` // nil: on
	File  *FileSettings     `json:"file,omitempty"`
	HTTP  *HTTPSettings     `json:"http,omitempty"`
}

// CategorySetting turns one category on or off.
type CategorySetting struct {
	Category string `json:"category"`
	Enabled  bool   `json:"enabled"`
}

// FileSettings is the JSON-lines file destination: one {"records":[…]}
// object per line and flush, rotated at MaxSizeMB, MaxFiles rotated files
// kept (PATH.1 the newest).
type FileSettings struct {
	Path      string `json:"path"` // absolute
	MaxSizeMB int    `json:"maxSizeMB,omitempty"`
	MaxFiles  int    `json:"maxFiles,omitempty"`
}

// HTTPSettings is the HTTP destination: every flush is POSTed as
// {"records":[…]}, retried MaxRetries times.
type HTTPSettings struct {
	URL            string `json:"url"`
	MaxRetries     int    `json:"maxRetries,omitempty"`
	TimeoutSeconds int    `json:"timeoutSeconds,omitempty"`
}

// Enabled reports whether a category is recorded.
func (s Settings) Enabled(category string) bool {
	for _, c := range s.Logs {
		if c.Category == category {
			return c.Enabled
		}
	}
	return true
}

// StoreEnabled reports whether records go to the store.
func (s Settings) StoreEnabled() bool { return s.Store == nil || *s.Store }

// Normalized returns s with every category listed once, in order, and
// the destinations' defaults filled in.
func (s Settings) Normalized() Settings {
	out := Settings{Store: ptr(s.StoreEnabled())}
	for _, c := range Categories {
		out.Logs = append(out.Logs, CategorySetting{c, s.Enabled(c)})
	}
	if s.File != nil {
		f := *s.File
		if f.MaxSizeMB <= 0 {
			f.MaxSizeMB = DefaultFileMaxSizeMB
		}
		if f.MaxFiles <= 0 {
			f.MaxFiles = DefaultFileMaxFiles
		}
		out.File = &f
	}
	if s.HTTP != nil {
		h := *s.HTTP
		if h.MaxRetries <= 0 {
			h.MaxRetries = DefaultHTTPRetries
		}
		if h.TimeoutSeconds <= 0 {
			h.TimeoutSeconds = DefaultHTTPTimeout
		}
		out.HTTP = &h
	}
	return out
}

// Validate checks s: known categories, each at most once; an absolute,
// writable file path; an http or https URL with a host; sane limits. Its
// errors are ArgumentInvalid errors that say what to change.
func (s Settings) Validate() error {
	seen := map[string]bool{}
	for _, c := range s.Logs {
		if !slices.Contains(Categories, c.Category) {
			return invalid("unknown log category %q; Tether records %s", c.Category, strings.Join(Categories, ", "))
		}
		if seen[c.Category] {
			return invalid("log category %s is listed twice", c.Category)
		}
		seen[c.Category] = true
	}
	if f := s.File; f != nil {
		if f.MaxSizeMB < 0 || f.MaxSizeMB > 100_000 || f.MaxFiles < 0 || f.MaxFiles > 1000 {
			return invalid("file: maxSizeMB must be 1 to 100000 and maxFiles 1 to 1000")
		}
		if err := checkWritable(f.Path); err != nil {
			return err
		}
	}
	if h := s.HTTP; h != nil {
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("http: url %q must be an http:// or https:// URL with a host", h.URL)
		}
		if h.MaxRetries < 0 || h.MaxRetries > 20 || h.TimeoutSeconds < 0 || h.TimeoutSeconds > 300 {
			return invalid("http: maxRetries must be 0 to 20 and timeoutSeconds 1 to 300")
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return tether.Errorf(tether.ArgumentInvalid, format, args...)
}

// checkWritable checks that the hub can append to path, creating it (and
// leaving it, empty) if needed.
func checkWritable(path string) error {
	if path == "" {
		return invalid("file: path is required")
	}
	if !filepath.IsAbs(path) {
		return invalid("file: path %q must be absolute (the hub's working folder is not the caller's)", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return invalid("file: %s is a folder; give a file name in it", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return invalid("file: the hub cannot write %s: %v", path, errors.Unwrap(err))
	}
	return f.Close()
}

// ParseSettings reads settings as stored; "" is the defaults.
func ParseSettings(s string) (Settings, error) {
	var out Settings
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return out, fmt.Errorf("diagnostic settings %q: %w", s, err)
	}
	return out, nil
}
