package events

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// EventType is an event type's short name, such as DeviceConnected; on
// the wire it is prefixed with "Microsoft.Devices.".
type EventType string

// The event types a subscription may ask for.
const (
	DeviceConnected    EventType = "DeviceConnected"
	DeviceDisconnected EventType = "DeviceDisconnected"
	DeviceCreated      EventType = "DeviceCreated"
	DeviceDeleted      EventType = "DeviceDeleted"
)

// typePrefix makes a short name Azure's event type.
const typePrefix = "Microsoft.Devices."

// Types returns the event types a subscription may ask for, in order.
func Types() []EventType {
	return []EventType{DeviceConnected, DeviceDisconnected, DeviceCreated, DeviceDeleted}
}

// FullName returns Azure's name of t, such as Microsoft.Devices.DeviceConnected.
func (t EventType) FullName() string { return typePrefix + string(t) }

// ParseType reads a short or full event type name, in any case.
func ParseType(s string) (EventType, error) {
	name := strings.TrimSpace(s)
	if len(name) > len(typePrefix) && strings.EqualFold(name[:len(typePrefix)], typePrefix) {
		name = name[len(typePrefix):]
	}
	for _, t := range Types() {
		if strings.EqualFold(name, string(t)) {
			return t, nil
		}
	}
	if strings.EqualFold(name, "DeviceTelemetry") {
		return "", tether.Errorf(tether.ArgumentInvalid, "event type DeviceTelemetry is not delivered as an event by Tether; read telemetry from the stream (GET /telemetry, 'tether monitor')")
	}
	return "", tether.Errorf(tether.ArgumentInvalid, "event type %q is not known; use %s", s, typeList())
}

func typeList() string {
	var names []string
	for _, t := range Types() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// DeviceEvent is what happened to a device, as the server reports it.
type DeviceEvent struct {
	Type     EventType // required
	DeviceID string    // required
	ModuleID string    // module identities only
	Time     time.Time // when it happened; required
	// Sequence is the connection events' sequenceNumber: 64 hex digits,
	// increasing (diag.Sequencer makes them). Required for
	// DeviceConnected and DeviceDisconnected.
	Sequence string
	// ConnectionID, Reason and Code are Tether's additions to connection
	// events, sent under "tetherConnectionInfo": the connection, and for a
	// disconnect its canonical reason and the Azure result code logged.
	ConnectionID string
	Reason       tether.Reason
	Code         tether.ResultCode
	// Device, for DeviceCreated and DeviceDeleted, fills the twin
	// snapshot; nil (or empty fields) gives a new device's defaults.
	Device *tether.Device
}

var sequenceRE = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

func (ev DeviceEvent) validate() error {
	switch ev.Type {
	case DeviceConnected, DeviceDisconnected:
		if !sequenceRE.MatchString(ev.Sequence) {
			return tether.Errorf(tether.ArgumentInvalid, "%s event for %q: sequence number %q is not 64 hex digits", ev.Type, ev.DeviceID, ev.Sequence)
		}
	case DeviceCreated, DeviceDeleted:
	default:
		return tether.Errorf(tether.ArgumentInvalid, "event type %q is not known; use %s", ev.Type, typeList())
	}
	if err := tether.ValidateDeviceID(ev.DeviceID); err != nil {
		return err
	}
	if ev.Time.IsZero() {
		return tether.Errorf(tether.ArgumentInvalid, "%s event for %q has no time", ev.Type, ev.DeviceID)
	}
	return nil
}

// subject is the event's subject, as Azure writes it.
func (ev DeviceEvent) subject() string { return "devices/" + ev.DeviceID }

// azureTimeFormat is how Azure writes event times: UTC with seven
// fraction digits (.NET ticks).
const azureTimeFormat = "2006-01-02T15:04:05.0000000Z"

func azureTime(t time.Time) string { return t.UTC().Format(azureTimeFormat) }

// twinTime is azureTime, or Azure's zone-less zero time.
func twinTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00"
	}
	return azureTime(t)
}

// ConnectionStateData is the data member of DeviceConnected and
// DeviceDisconnected events.
type ConnectionStateData struct {
	DeviceConnectionStateEventInfo struct {
		SequenceNumber string `json:"sequenceNumber"`
	} `json:"deviceConnectionStateEventInfo"`
	HubName  string `json:"hubName"`
	DeviceID string `json:"deviceId"`
	ModuleID string `json:"moduleId"`
	// TetherConnectionInfo is Tether's addition; Azure does not send it.
	TetherConnectionInfo *TetherConnectionInfo `json:"tetherConnectionInfo,omitempty"`
}

// TetherConnectionInfo says which connection an event is about and, for a
// disconnect, why it ended.
type TetherConnectionInfo struct {
	ConnectionID      string `json:"connectionId,omitempty"`
	Reason            string `json:"reason,omitempty"`            // keepalive_timeout, ...
	ResultType        string `json:"resultType,omitempty"`        // the result code logged: 404104
	ResultDescription string `json:"resultDescription,omitempty"` // its name: DeviceConnectionClosedRemotely
}

// LifecycleData is the data member of DeviceCreated and DeviceDeleted
// events. As in Azure, the twin is a snapshot with defaults, not the
// authoritative twin.
type LifecycleData struct {
	Twin     TwinSnapshot `json:"twin"`
	HubName  string       `json:"hubName"`
	DeviceID string       `json:"deviceId"`
}

// TwinSnapshot is the twin of a lifecycle event.
type TwinSnapshot struct {
	DeviceID                  string           `json:"deviceId"`
	ETag                      string           `json:"etag"`
	DeviceETag                string           `json:"deviceEtag"`
	Status                    string           `json:"status"`
	StatusUpdateTime          string           `json:"statusUpdateTime"`
	ConnectionState           string           `json:"connectionState"`
	LastActivityTime          string           `json:"lastActivityTime"`
	CloudToDeviceMessageCount int              `json:"cloudToDeviceMessageCount"`
	AuthenticationType        string           `json:"authenticationType"`
	X509Thumbprint            wire.Thumbprints `json:"x509Thumbprint"`
	Version                   int64            `json:"version"`
	Properties                struct {
		Desired  SnapshotCollection `json:"desired"`
		Reported SnapshotCollection `json:"reported"`
	} `json:"properties"`
}

// SnapshotCollection is the desired or reported half of a snapshot's
// properties: only its metadata and version.
type SnapshotCollection struct {
	Metadata struct {
		LastUpdated string `json:"$lastUpdated"`
	} `json:"$metadata"`
	Version int64 `json:"$version"`
}

// data renders ev's data member for the hub hub.
func (ev DeviceEvent) data(hub string) ([]byte, error) {
	var v any
	switch ev.Type {
	case DeviceConnected, DeviceDisconnected:
		d := ConnectionStateData{HubName: hub, DeviceID: ev.DeviceID, ModuleID: ev.ModuleID}
		d.DeviceConnectionStateEventInfo.SequenceNumber = ev.Sequence
		info := TetherConnectionInfo{ConnectionID: ev.ConnectionID, Reason: string(ev.Reason)}
		if ev.Code != 0 {
			info.ResultType, info.ResultDescription = fmt.Sprint(int(ev.Code)), ev.Code.Name()
		}
		if info != (TetherConnectionInfo{}) {
			d.TetherConnectionInfo = &info
		}
		v = d
	default:
		v = LifecycleData{Twin: ev.snapshot(), HubName: hub, DeviceID: ev.DeviceID}
	}
	return json.Marshal(v)
}

// snapshot returns the twin of a lifecycle event: a new twin's version
// and ETag, with the device's fields where ev.Device has them.
func (ev DeviceEvent) snapshot() TwinSnapshot {
	d := tether.Device{ID: ev.DeviceID}
	deviceETag := "null" // as Azure's samples show it
	if ev.Device != nil {
		d = *ev.Device
		deviceETag = d.ETag()
	}
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	twin := tether.NewTwin(ev.DeviceID)
	s := TwinSnapshot{
		DeviceID: ev.DeviceID, ETag: twin.ETag(), DeviceETag: deviceETag,
		Status: or(string(d.Status), string(tether.StatusEnabled)), StatusUpdateTime: twinTime(d.StatusUpdatedTime),
		ConnectionState: or(string(d.ConnectionState), string(tether.Disconnected)), LastActivityTime: twinTime(d.LastActivityTime),
		CloudToDeviceMessageCount: d.CloudToDeviceMessageCount, AuthenticationType: or(string(d.Auth.Type), string(tether.AuthSAS)),
		X509Thumbprint: wire.Thumbprints{PrimaryThumbprint: wire.Str(d.Auth.PrimaryThumbprint), SecondaryThumbprint: wire.Str(d.Auth.SecondaryThumbprint)},
		Version:        twin.Version,
	}
	for _, c := range []*SnapshotCollection{&s.Properties.Desired, &s.Properties.Reported} {
		c.Metadata.LastUpdated, c.Version = azureTime(ev.Time), 1
	}
	return s
}
