package wire

import (
	"strconv"

	"github.com/tether-iot/tether"
)

// SymmetricKey holds a device's base64 keys.
type SymmetricKey struct {
	PrimaryKey   *string `json:"primaryKey"`
	SecondaryKey *string `json:"secondaryKey"`
}

// Thumbprints holds a device's X.509 thumbprints.
type Thumbprints struct {
	PrimaryThumbprint   *string `json:"primaryThumbprint"`
	SecondaryThumbprint *string `json:"secondaryThumbprint"`
}

// Authentication is a device's authentication block.
type Authentication struct {
	SymmetricKey   *SymmetricKey `json:"symmetricKey,omitempty"`
	X509Thumbprint *Thumbprints  `json:"x509Thumbprint,omitempty"`
	Type           string        `json:"type,omitempty"`
}

// Capabilities are a device's capabilities.
type Capabilities struct {
	IoTEdge bool `json:"iotEdge"`
}

// Device is the Device of the service API.
type Device struct {
	DeviceID                   string          `json:"deviceId"`
	GenerationID               string          `json:"generationId"`
	ETag                       string          `json:"etag"`
	ConnectionState            string          `json:"connectionState"`
	Status                     string          `json:"status"`
	StatusReason               *string         `json:"statusReason"`
	ConnectionStateUpdatedTime Time            `json:"connectionStateUpdatedTime"`
	StatusUpdatedTime          Time            `json:"statusUpdatedTime"`
	LastActivityTime           Time            `json:"lastActivityTime"`
	CloudToDeviceMessageCount  int             `json:"cloudToDeviceMessageCount"`
	Authentication             *Authentication `json:"authentication"`
	Capabilities               *Capabilities   `json:"capabilities"`
	// LastDisconnect is Tether's: why and when the device last lost its
	// connection. Read-only; absent until the first disconnect.
	LastDisconnect *LastDisconnect `json:"lastDisconnect,omitempty"`
}

// LastDisconnect is why and when a device last lost its connection.
type LastDisconnect struct {
	Time              Time   `json:"time"`
	Reason            string `json:"reason"`
	ResultType        string `json:"resultType,omitempty"`
	ResultDescription string `json:"resultDescription,omitempty"`
}

// Str returns a pointer to s, or nil for "" (JSON null).
func Str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Deref returns *p, or "" for nil.
func Deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// FromDevice returns d as the service API shows it, keys included.
func FromDevice(d tether.Device) Device {
	state := d.ConnectionState
	if state == "" {
		state = tether.Disconnected
	}
	return Device{
		DeviceID:                   d.ID,
		GenerationID:               d.GenerationID,
		ETag:                       d.ETag(),
		ConnectionState:            string(state),
		Status:                     string(d.Status),
		StatusReason:               Str(d.StatusReason),
		ConnectionStateUpdatedTime: Time(d.ConnectionStateUpdatedTime),
		StatusUpdatedTime:          Time(d.StatusUpdatedTime),
		LastActivityTime:           Time(d.LastActivityTime),
		CloudToDeviceMessageCount:  d.CloudToDeviceMessageCount,
		Authentication: &Authentication{
			Type:           string(d.Auth.Type),
			SymmetricKey:   &SymmetricKey{Str(d.Auth.PrimaryKey.Reveal()), Str(d.Auth.SecondaryKey.Reveal())},
			X509Thumbprint: &Thumbprints{Str(d.Auth.PrimaryThumbprint), Str(d.Auth.SecondaryThumbprint)},
		},
		Capabilities:   &Capabilities{IoTEdge: d.IoTEdge},
		LastDisconnect: lastDisconnect(d.LastDisconnect),
	}
}

func lastDisconnect(dc tether.Disconnect) *LastDisconnect {
	if dc.Time.IsZero() {
		return nil
	}
	ld := &LastDisconnect{Time: Time(dc.Time), Reason: string(dc.Reason)}
	if dc.Code != 0 {
		ld.ResultType, ld.ResultDescription = strconv.Itoa(int(dc.Code)), dc.Code.Name()
	}
	return ld
}

// ToDevice returns the fields of w as a tether.Device (ETag-derived
// version excepted).
func (w Device) ToDevice() tether.Device {
	d := tether.Device{
		ID: w.DeviceID, GenerationID: w.GenerationID, Status: tether.Status(w.Status),
		StatusReason: Deref(w.StatusReason), StatusUpdatedTime: w.StatusUpdatedTime.Std(),
		ConnectionState: tether.ConnectionState(w.ConnectionState), ConnectionStateUpdatedTime: w.ConnectionStateUpdatedTime.Std(),
		LastActivityTime: w.LastActivityTime.Std(), CloudToDeviceMessageCount: w.CloudToDeviceMessageCount,
	}
	if a := w.Authentication; a != nil {
		d.Auth.Type = tether.AuthType(a.Type)
		if a.SymmetricKey != nil {
			d.Auth.PrimaryKey = tether.Secret(Deref(a.SymmetricKey.PrimaryKey))
			d.Auth.SecondaryKey = tether.Secret(Deref(a.SymmetricKey.SecondaryKey))
		}
		if a.X509Thumbprint != nil {
			d.Auth.PrimaryThumbprint = Deref(a.X509Thumbprint.PrimaryThumbprint)
			d.Auth.SecondaryThumbprint = Deref(a.X509Thumbprint.SecondaryThumbprint)
		}
	}
	if w.Capabilities != nil {
		d.IoTEdge = w.Capabilities.IoTEdge
	}
	return d
}
