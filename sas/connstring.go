package sas

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/tether-iot/tether"
)

// Kind is what a connection string identifies.
type Kind int

const (
	KindDevice Kind = iota // HostName and DeviceId
	KindModule             // HostName, DeviceId and ModuleId
	KindPolicy             // HostName and SharedAccessKeyName, no DeviceId: a service or policy string
)

func (k Kind) String() string {
	switch k {
	case KindDevice:
		return "device"
	case KindModule:
		return "module"
	case KindPolicy:
		return "policy"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ConnectionString is a parsed IoT Hub connection string.
type ConnectionString struct {
	HostName        string // the hub, such as "myhub.azure-devices.net" or "localhost:8883"
	DeviceID        string // "" for a policy string
	ModuleID        string
	KeyName         string // SharedAccessKeyName: the policy whose key is Key
	GatewayHostName string // connect here instead of HostName, such as an IoT Edge gateway

	Key       tether.Secret // SharedAccessKey, base64
	Signature tether.Secret // SharedAccessSignature: a whole pre-made token
	X509      bool          // x509=true: the device authenticates with a certificate
}

// Kind reports whether c is a device, module or policy string.
func (c ConnectionString) Kind() Kind {
	switch {
	case c.DeviceID == "":
		return KindPolicy
	case c.ModuleID != "":
		return KindModule
	}
	return KindDevice
}

// String formats c as a connection string with its keys in a fixed
// order: HostName, DeviceId, ModuleId, SharedAccessKeyName,
// SharedAccessKey, SharedAccessSignature, x509, GatewayHostName.
//
// String REVEALS the key and the signature, and so do fmt's %v and %s:
// it is for handing the string to a device or writing it where it is
// needed, not for logs. Loggers use [ConnectionString.LogValue]; %#v
// hides the secrets too.
func (c ConnectionString) String() string {
	var parts []string
	add := func(name, value string) {
		if value != "" {
			parts = append(parts, name+"="+value)
		}
	}
	add("HostName", c.HostName)
	add("DeviceId", c.DeviceID)
	add("ModuleId", c.ModuleID)
	add("SharedAccessKeyName", c.KeyName)
	add("SharedAccessKey", c.Key.Reveal())
	add("SharedAccessSignature", c.Signature.Reveal())
	if c.X509 {
		add("x509", "true")
	}
	add("GatewayHostName", c.GatewayHostName)
	return strings.Join(parts, ";")
}

// LogValue shows the host, device, module, policy and gateway names and
// how c authenticates, never the key or signature.
func (c ConnectionString) LogValue() slog.Value {
	var attrs []slog.Attr
	add := func(name, value string) {
		if value != "" {
			attrs = append(attrs, slog.String(name, value))
		}
	}
	add("HostName", c.HostName)
	add("DeviceId", c.DeviceID)
	add("ModuleId", c.ModuleID)
	add("SharedAccessKeyName", c.KeyName)
	add("SharedAccessKey", c.Key.String())
	add("SharedAccessSignature", c.Signature.String())
	if c.X509 {
		add("x509", "true")
	}
	add("GatewayHostName", c.GatewayHostName)
	return slog.GroupValue(attrs...)
}
