package device

import (
	"net/url"
	"sort"
	"strings"
)

// topics are the IoT Hub MQTT topic names of one device or module.
type topics struct {
	events        string // telemetry, before the property bag
	c2dFilter     string
	c2dPrefix     string
	methodsFilter string
	twinResFilter string
	desiredFilter string
}

func newTopics(deviceID, moduleID string) topics {
	own := "devices/" + deviceID + "/"
	if moduleID != "" {
		own += "modules/" + moduleID + "/"
	}
	return topics{
		events:        own + "messages/events/",
		c2dFilter:     "devices/" + deviceID + "/messages/devicebound/#",
		c2dPrefix:     "devices/" + deviceID + "/messages/devicebound/",
		methodsFilter: "$iothub/methods/POST/#",
		twinResFilter: "$iothub/twin/res/#",
		desiredFilter: "$iothub/twin/PATCH/properties/desired/#",
	}
}

// escape is encodeURIComponent, as the Azure SDKs write property bags.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// encodeBag writes system properties (by their $. names, in the order
// given) and then the application properties sorted by name.
func encodeBag(system [][2]string, app map[string]string) string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escape(k))
		b.WriteByte('=')
		b.WriteString(escape(v))
	}
	for _, kv := range system {
		if kv[1] != "" {
			add(kv[0], kv[1])
		}
	}
	keys := make([]string, 0, len(app))
	for k := range app {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, app[k])
	}
	return b.String()
}

// decodeBag reads a property bag "k=v&k2&k3=" (a key without "=" has a
// null value, read as ""). Malformed escapes keep the raw text.
func decodeBag(bag string) map[string]string {
	out := map[string]string{}
	bag = strings.TrimPrefix(bag, "?")
	for _, part := range strings.Split(bag, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		out[k] = v
	}
	return out
}

// splitTopic splits "a/b/c/?x=1" into the segments before "?" (without
// the empty one the trailing slash leaves) and the query.
func splitTopic(topic string) ([]string, map[string]string) {
	path, query, _ := strings.Cut(topic, "?")
	path = strings.TrimSuffix(path, "/")
	return strings.Split(path, "/"), decodeBag(query)
}
