package wire

import (
	"time"

	"github.com/tether-iot/tether"
)

// Twin is the Twin of the service API.
type Twin struct {
	DeviceID                  string         `json:"deviceId"`
	ETag                      string         `json:"etag"`
	DeviceETag                string         `json:"deviceEtag"`
	Version                   int64          `json:"version"`
	Status                    string         `json:"status"`
	StatusReason              *string        `json:"statusReason"`
	StatusUpdateTime          Time           `json:"statusUpdateTime"`
	ConnectionState           string         `json:"connectionState"`
	LastActivityTime          Time           `json:"lastActivityTime"`
	CloudToDeviceMessageCount int            `json:"cloudToDeviceMessageCount"`
	AuthenticationType        string         `json:"authenticationType"`
	X509Thumbprint            Thumbprints    `json:"x509Thumbprint"`
	Capabilities              Capabilities   `json:"capabilities"`
	Tags                      map[string]any `json:"tags"`
	Properties                TwinProperties `json:"properties"`
}

// TwinProperties are a twin's desired and reported properties, each with
// "$metadata" and "$version" members.
type TwinProperties struct {
	Desired  map[string]any `json:"desired"`
	Reported map[string]any `json:"reported"`
}

// TwinPatch is what a service may write to a twin: tags and desired
// properties. Reported is here only so that it can be refused.
type TwinPatch struct {
	DeviceID   string         `json:"deviceId,omitempty"`
	ETag       string         `json:"etag,omitempty"`
	Tags       map[string]any `json:"tags,omitempty"`
	Properties *struct {
		Desired  map[string]any `json:"desired,omitempty"`
		Reported map[string]any `json:"reported,omitempty"`
	} `json:"properties,omitempty"`
}

// Collection returns c with its "$metadata" and "$version" members.
func Collection(c tether.TwinCollection) map[string]any {
	out := make(map[string]any, len(c.Props)+2)
	for k, v := range c.Props {
		out[k] = v
	}
	out["$metadata"] = c.Metadata()
	out["$version"] = c.Version
	return out
}

// FromTwin returns t, with the device-level fields of d, as the service
// API shows it.
func FromTwin(t tether.Twin, d tether.Device, now time.Time) Twin {
	state := d.ConnectionState
	if state == "" {
		state = tether.Disconnected
	}
	tags := t.Tags
	if tags == nil {
		tags = map[string]any{}
	}
	return Twin{
		DeviceID: t.DeviceID, ETag: t.ETag(), DeviceETag: d.ETag(), Version: t.Version,
		Status: string(d.Status), StatusReason: Str(d.StatusReason), StatusUpdateTime: Time(d.StatusUpdatedTime),
		ConnectionState: string(state), LastActivityTime: Time(d.LastActivityTime),
		CloudToDeviceMessageCount: d.CloudToDeviceMessageCount, AuthenticationType: string(d.Auth.Type),
		X509Thumbprint: Thumbprints{Str(d.Auth.PrimaryThumbprint), Str(d.Auth.SecondaryThumbprint)},
		Capabilities:   Capabilities{IoTEdge: d.IoTEdge},
		Tags:           tags,
		Properties:     TwinProperties{Desired: Collection(t.Desired), Reported: Collection(t.Reported)},
	}
}
