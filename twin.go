package tether

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"
)

// Twin limits, as in Azure IoT Hub.
const (
	MaxTwinTagsBytes       = 8 * 1024
	MaxTwinPropertiesBytes = 32 * 1024
	MaxTwinKeyBytes        = 1024
	MaxTwinStringBytes     = 4 * 1024
	MaxTwinDepth           = 10
)

// Twin is a device's twin: tags set by the back end, desired properties
// set by the back end for the device, and reported properties set by the
// device.
type Twin struct {
	DeviceID string
	ModuleID string
	// Version counts every change to the twin; the ETag derives from it.
	Version  int64
	Tags     map[string]any
	Desired  TwinCollection
	Reported TwinCollection
}

// ETag returns the twin's ETag value (unquoted): base64 of its version as
// an 8-byte big-endian number, as Azure writes it ("AAAAAAAAAAE=" for 1).
func (t Twin) ETag() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.Version))
	return base64.StdEncoding.EncodeToString(b[:])
}

// PatchTags merges patch into the tags; a null member deletes.
func (t *Twin) PatchTags(patch map[string]any) error {
	if err := validateTwinTree("tags", patch, 1); err != nil {
		return err
	}
	if t.Tags == nil {
		t.Tags = map[string]any{}
	}
	mergeTree(t.Tags, patch, nil, nil)
	if n := jsonSize(t.Tags); n > MaxTwinTagsBytes {
		return Errorf(ArgumentInvalid, "tags would be %d bytes; the limit is %d", n, MaxTwinTagsBytes)
	}
	return nil
}

// TwinCollection is the desired or the reported half of a twin's
// properties, with its own version and Azure's $metadata tree.
type TwinCollection struct {
	Props   map[string]any
	Version int64
	// Meta mirrors Props: each member holds "$lastUpdated" and
	// "$lastUpdatedVersion", and objects nest their members' metadata.
	Meta map[string]any
}

// Patch merges patch into c at time now: members are set, objects merged
// and a null member deleted. The version goes up by one.
func (c *TwinCollection) Patch(name string, patch map[string]any, now time.Time) error {
	if err := validateTwinTree("properties."+name, patch, 1); err != nil {
		return err
	}
	props := cloneTree(c.Props)
	meta := cloneTree(c.Meta)
	stamp := metaStamp(now, c.Version+1)
	mergeTree(props, patch, meta, stamp)
	if n := jsonSize(props); n > MaxTwinPropertiesBytes {
		return Errorf(ArgumentInvalid, "properties.%s would be %d bytes; the limit is %d", name, n, MaxTwinPropertiesBytes)
	}
	c.Props, c.Meta = props, meta
	c.Version++
	return nil
}

// Replace sets c to values at time now, dropping null members.
func (c *TwinCollection) Replace(name string, values map[string]any, now time.Time) error {
	c2 := TwinCollection{Version: c.Version}
	if err := c2.Patch(name, values, now); err != nil {
		return err
	}
	*c = c2
	return nil
}

// Metadata returns the $metadata object for c.
func (c TwinCollection) Metadata() map[string]any {
	m := cloneTree(c.Meta)
	if m == nil {
		m = map[string]any{}
	}
	if _, ok := m["$lastUpdated"]; !ok {
		m["$lastUpdated"] = "0001-01-01T00:00:00Z" // never written
	}
	return m
}

func metaStamp(now time.Time, version int64) map[string]any {
	return map[string]any{"$lastUpdated": now.UTC().Format(time.RFC3339Nano), "$lastUpdatedVersion": version}
}

// mergeTree merges patch into dst. When meta is not nil it records stamp
// for every member set and for the collection itself.
func mergeTree(dst, patch, meta, stamp map[string]any) {
	if meta != nil {
		for k, v := range stamp {
			meta[k] = v
		}
	}
	for k, v := range patch {
		if v == nil {
			delete(dst, k)
			if meta != nil {
				delete(meta, k)
			}
			continue
		}
		sub, isObj := v.(map[string]any)
		if !isObj {
			dst[k] = v
			if meta != nil {
				meta[k] = cloneTree(stamp)
			}
			continue
		}
		cur, ok := dst[k].(map[string]any)
		if !ok {
			cur = map[string]any{}
			dst[k] = cur
		}
		var subMeta map[string]any
		if meta != nil {
			subMeta, ok = meta[k].(map[string]any)
			if !ok {
				subMeta = map[string]any{}
			}
			meta[k] = subMeta
		}
		mergeTree(cur, sub, subMeta, stamp)
	}
}

func validateTwinTree(path string, m map[string]any, depth int) error {
	if depth > MaxTwinDepth {
		return Errorf(ArgumentInvalid, "%s is nested more than %d levels deep", path, MaxTwinDepth)
	}
	for k, v := range m {
		if k == "" || len(k) > MaxTwinKeyBytes {
			return Errorf(ArgumentInvalid, "%s has a key of %d bytes; keys must be 1 to %d bytes", path, len(k), MaxTwinKeyBytes)
		}
		if k == "$version" && depth == 1 {
			continue
		}
		if strings.ContainsAny(k, ".$ ") || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return Errorf(ArgumentInvalid, "%s has key %q; twin keys may not contain '.', '$', spaces or control characters", path, k)
		}
		switch v := v.(type) {
		case string:
			if len(v) > MaxTwinStringBytes {
				return Errorf(ArgumentInvalid, "%s.%s is a string of %d bytes; the limit is %d", path, k, len(v), MaxTwinStringBytes)
			}
		case map[string]any:
			if err := validateTwinTree(path+"."+k, v, depth+1); err != nil {
				return err
			}
		}
	}
	delete(m, "$version")
	return nil
}

func cloneTree(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = cloneTree(sub)
		}
		out[k] = v
	}
	return out
}

func jsonSize(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// NewTwin returns the twin a newly created device starts with: version 1,
// no tags, and empty desired and reported properties at $version 1.
func NewTwin(deviceID string) Twin {
	return Twin{
		DeviceID: deviceID,
		Version:  1,
		Tags:     map[string]any{},
		Desired:  TwinCollection{Props: map[string]any{}, Version: 1, Meta: map[string]any{}},
		Reported: TwinCollection{Props: map[string]any{}, Version: 1, Meta: map[string]any{}},
	}
}
