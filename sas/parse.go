package sas

import (
	"strings"
	"unicode"

	"github.com/tether-iot/tether"
)

// ParseConnectionString parses a device, module or policy connection
// string, such as
//
//	HostName=myhub.azure-devices.net;DeviceId=d1;SharedAccessKey=<base64>
//
// It splits s on ';' and each part on its first '=' (base64 keys end in
// '='), ignores empty parts and surrounding white space, and matches key
// names case-insensitively. It accepts what the Azure SDKs accept and
// says precisely what is wrong otherwise: a device or module
// string needs one of SharedAccessKey, SharedAccessSignature and
// x509=true; a string without DeviceId is a policy string and needs
// SharedAccessKeyName and SharedAccessKey. Errors are *tether.Error with
// code ArgumentInvalid; none repeats a key.
func ParseConnectionString(s string) (ConnectionString, error) {
	fields, err := splitConnectionString(s)
	if err != nil {
		return ConnectionString{}, err
	}
	c := ConnectionString{
		HostName:        fields["HostName"],
		DeviceID:        fields["DeviceId"],
		ModuleID:        fields["ModuleId"],
		KeyName:         fields["SharedAccessKeyName"],
		GatewayHostName: fields["GatewayHostName"],
		Key:             tether.Secret(fields["SharedAccessKey"]),
		Signature:       tether.Secret(fields["SharedAccessSignature"]),
	}
	if v, ok := fields["x509"]; ok {
		switch {
		case strings.EqualFold(v, "true"):
			c.X509 = true
		case !strings.EqualFold(v, "false"):
			return ConnectionString{}, invalid("x509 is %q; want true or false", v)
		}
	}
	if err := c.validate(); err != nil {
		return ConnectionString{}, err
	}
	return c, nil
}

// splitConnectionString returns the fields of s by canonical key name.
func splitConnectionString(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, invalid("the string is empty")
	}
	fields := make(map[string]string)
	for i, seg := range strings.Split(s, ";") {
		if strings.TrimSpace(seg) == "" {
			continue
		}
		name, value, ok := strings.Cut(seg, "=")
		if !ok {
			// The segment is not quoted: it may be a stray key.
			return nil, invalid("part %d has no '=' (want Name=value)", i+1)
		}
		name = strings.TrimSpace(name)
		key := canonicalKey(name)
		if key == "" {
			return nil, invalid("unknown key %s (known keys: %s)", describeUnknown(name), strings.Join(connKeys(), ", "))
		}
		if _, dup := fields[key]; dup {
			return nil, invalid("%s appears twice", key)
		}
		if value == "" {
			return nil, invalid("%s is empty", key)
		}
		fields[key] = value
	}
	return fields, nil
}

func (c ConnectionString) validate() error {
	if c.HostName == "" {
		return invalid("HostName is missing")
	}
	if err := checkHost("HostName", c.HostName); err != nil {
		return err
	}
	if c.GatewayHostName != "" {
		if err := checkHost("GatewayHostName", c.GatewayHostName); err != nil {
			return err
		}
	}
	if c.DeviceID == "" {
		switch {
		case c.ModuleID != "":
			return invalid("ModuleId %q needs a DeviceId", c.ModuleID)
		case c.X509:
			return invalid("x509=true needs a DeviceId")
		case c.KeyName == "":
			return invalid("without DeviceId it is a policy string, which needs SharedAccessKeyName")
		case c.Key == "":
			return invalid("without DeviceId it is a policy string, which needs SharedAccessKey")
		}
	}
	for _, id := range []struct{ name, v string }{{"DeviceId", c.DeviceID}, {"ModuleId", c.ModuleID}} {
		if id.v == "" {
			continue
		}
		if err := tether.ValidateDeviceID(id.v); err != nil {
			return invalid("%s: %s", id.name, tether.ErrorMessage(err))
		}
	}
	var auth []string
	if c.Key != "" {
		auth = append(auth, "SharedAccessKey")
	}
	if c.Signature != "" {
		auth = append(auth, "SharedAccessSignature")
	}
	if c.X509 {
		auth = append(auth, "x509=true")
	}
	switch len(auth) {
	case 0:
		return invalid("a %s string needs one of SharedAccessKey, SharedAccessSignature or x509=true", c.Kind())
	case 1:
	default:
		return invalid("a %s string takes only one of SharedAccessKey, SharedAccessSignature and x509=true; this one has %s",
			c.Kind(), strings.Join(auth, " and "))
	}
	if c.Key != "" {
		if _, err := tether.DecodeKey(c.Key.Reveal()); err != nil {
			return invalid("SharedAccessKey: %s", tether.ErrorMessage(err))
		}
	}
	if c.Signature != "" {
		if _, err := ParseToken(c.Signature.Reveal()); err != nil {
			return invalid("SharedAccessSignature: %v", err)
		}
	}
	return nil
}

// checkHost rejects a host name that is really a URL or has spaces.
func checkHost(key, h string) error {
	switch {
	case strings.Contains(h, "://"):
		return invalid("%s %q has a scheme; give the host name alone, such as \"myhub.azure-devices.net\"", key, h)
	case strings.ContainsAny(h, "/?#"):
		return invalid("%s %q has a path; give the host name alone, such as \"myhub.azure-devices.net\"", key, h)
	case strings.ContainsFunc(h, unicode.IsSpace):
		return invalid("%s %q contains spaces", key, h)
	}
	return nil
}

// invalid returns an ArgumentInvalid error about a connection string.
func invalid(format string, args ...any) error {
	return tether.Errorf(tether.ArgumentInvalid, "connection string: "+format, args...)
}
