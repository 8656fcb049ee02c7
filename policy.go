package tether

import (
	"fmt"
	"strings"
)

// Rights is the set of permissions a shared access policy grants, as in
// Azure IoT Hub.
type Rights uint8

const (
	RegistryRead   Rights = 1 << iota // read the device registry
	RegistryWrite                     // create, update and delete devices
	ServiceConnect                    // twins, direct methods, messages, logs
	DeviceConnect                     // connect as any device

	AllRights = RegistryRead | RegistryWrite | ServiceConnect | DeviceConnect
)

var rightNames = []struct {
	r    Rights
	name string
}{{RegistryRead, "RegistryRead"}, {RegistryWrite, "RegistryWrite"}, {ServiceConnect, "ServiceConnect"}, {DeviceConnect, "DeviceConnect"}}

// Has reports whether r includes every right in need.
func (r Rights) Has(need Rights) bool { return r&need == need }

// String formats r as Azure does: "RegistryRead, RegistryWrite".
func (r Rights) String() string {
	var parts []string
	for _, n := range rightNames {
		if r&n.r != 0 {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// ParseRights reads a comma- or space-separated list of right names, case
// insensitively. "RegistryReadWrite" is accepted as RegistryRead and
// RegistryWrite together.
func ParseRights(s string) (Rights, error) {
	var r Rights
	for _, f := range strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' || c == '|' }) {
		switch {
		case strings.EqualFold(f, "RegistryReadWrite"):
			r |= RegistryRead | RegistryWrite
		default:
			found := false
			for _, n := range rightNames {
				if strings.EqualFold(f, n.name) {
					r |= n.r
					found = true
				}
			}
			if !found {
				return 0, fmt.Errorf("unknown right %q (want RegistryRead, RegistryWrite, ServiceConnect or DeviceConnect)", f)
			}
		}
	}
	return r, nil
}

// Policy is a shared access policy: a named pair of keys and the rights a
// token signed with either of them carries.
type Policy struct {
	Name         string
	PrimaryKey   Secret // base64
	SecondaryKey Secret // base64
	Rights       Rights
}

// DefaultPolicies names the policies a new hub starts with and their
// rights, as in Azure IoT Hub.
func DefaultPolicies() []Policy {
	return []Policy{
		{Name: "iothubowner", Rights: AllRights},
		{Name: "service", Rights: ServiceConnect},
		{Name: "device", Rights: DeviceConnect},
		{Name: "registryRead", Rights: RegistryRead},
		{Name: "registryReadWrite", Rights: RegistryRead | RegistryWrite},
	}
}
