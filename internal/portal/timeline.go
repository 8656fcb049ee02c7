package portal

import (
	"net/http"
	"time"

	"github.com/tether-iot/tether"
)

// Bounds of one device's history as the device page reads it.
const (
	maxTimelineRows = 2000
	recentRows      = 50
)

// logRow is one AzureDiagnostics row of a device, trimmed for the page.
type logRow struct {
	Time        string `json:"time"` // RFC 3339, nanoseconds
	Category    string `json:"category"`
	Operation   string `json:"operationName"`
	Level       string `json:"level"`
	ResultType  string `json:"resultType"`
	Description string `json:"resultDescription"`
	Reason      string `json:"reason"`
	Properties  string `json:"properties"`
}

// timelineAnswer is GET /portal/api/devices/{id}/timeline's answer: the
// device's Connections rows in the range, oldest first, from which the
// page draws sessions, and its most recent rows of every category.
type timelineAnswer struct {
	DeviceID    string   `json:"deviceId"`
	Since       string   `json:"since"`
	Until       string   `json:"until"`
	Connections []logRow `json:"connections"`
	Truncated   bool     `json:"truncated"` // more rows than maxTimelineRows; the oldest were left out
	Recent      []logRow `json:"recent"`
}

func (p *Portal) timeline(w http.ResponseWriter, r *http.Request, _ *session) {
	id := r.PathValue("id")
	if err := tether.ValidateDeviceID(id); err != nil {
		writeJSONError(w, http.StatusBadRequest, "ArgumentInvalid", tether.ErrorMessage(err))
		return
	}
	name := r.URL.Query().Get("range")
	if name == "" {
		name = "24h"
	}
	d, ok := ranges[name]
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "ArgumentInvalid", "range="+quote(name)+": use 1h, 24h or 7d")
		return
	}
	if p.o.Logs == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the log store is not connected to the portal")
		return
	}
	now := p.o.Now()
	a := timelineAnswer{DeviceID: id, Since: now.Add(-d).UTC().Format(time.RFC3339Nano), Until: now.UTC().Format(time.RFC3339Nano)}
	var err error
	// Newest first with a cap, then reversed: a busy device keeps its
	// latest sessions. "+Category" keeps SQLite on the device index: the
	// category index would read every device's connections.
	a.Connections, err = p.deviceRows(r, timelineWhere, maxTimelineRows+1, id, now.Add(-d).UnixNano())
	if err == nil {
		if len(a.Connections) > maxTimelineRows {
			a.Connections, a.Truncated = a.Connections[:maxTimelineRows], true
		}
		for i, j := 0, len(a.Connections)-1; i < j; i, j = i+1, j-1 {
			a.Connections[i], a.Connections[j] = a.Connections[j], a.Connections[i]
		}
		a.Recent, err = p.deviceRows(r, recentWhere, recentRows, id)
	}
	if err != nil {
		p.log.Error("portal timeline", "device", id, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "InternalError", "internal error reading the logs")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// The device page's two queries: its Connections rows in the range, and
// its newest rows of every category.
const (
	timelineWhere = `_DeviceId = ? AND +Category = 'Connections' AND TimeGenerated >= ?`
	recentWhere   = `_DeviceId = ?`
)

func deviceRowsSQL(where string) string {
	return `SELECT TimeGenerated, Category, OperationName, Level, ResultType, ResultDescription, _Reason, properties_s
		FROM AzureDiagnostics WHERE ` + where + ` ORDER BY TimeGenerated DESC, rowid DESC LIMIT ?`
}

// deviceRows reads up to limit rows matching where, newest first.
func (p *Portal) deviceRows(r *http.Request, where string, limit int, args ...any) ([]logRow, error) {
	rows, err := p.o.Logs.QueryContext(r.Context(), deviceRowsSQL(where), append(args, limit)...)
	if err != nil {
		return nil, err
	}
	out := []logRow{}
	for rows.Next() {
		var x logRow
		var ns int64
		if err := rows.Scan(&ns, &x.Category, &x.Operation, &x.Level, &x.ResultType, &x.Description, &x.Reason, &x.Properties); err != nil {
			rows.Close()
			return nil, err
		}
		x.Time = time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		out = append(out, x)
	}
	return out, closeRows(rows)
}
