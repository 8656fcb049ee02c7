package gateway

import (
	"net/url"
	"strconv"
	"strings"
)

// topicKind classifies a device's PUBLISH topic.
type topicKind int

const (
	topicUnknown      topicKind = iota
	topicTelemetry              // devices/{id}/messages/events/{bag}
	topicTwinGet                // $iothub/twin/GET/?$rid=
	topicTwinReported           // $iothub/twin/PATCH/properties/reported/?$rid=
	topicMethodResult           // $iothub/methods/res/{status}/?$rid=
	topicOtherDevice            // another device's topic
)

// publishTopic is a parsed device PUBLISH topic.
type publishTopic struct {
	kind   topicKind
	bag    string // telemetry: the property bag, still encoded
	rid    string // twin and methods: the request id
	status int    // method result status
}

// parsePublish classifies topic for the connection's identity.
func parsePublish(topic string, id identity) publishTopic {
	own := "devices/" + id.DeviceID + "/"
	if id.ModuleID != "" {
		own += "modules/" + id.ModuleID + "/"
	}
	switch {
	case strings.HasPrefix(topic, own+"messages/events/"):
		return publishTopic{kind: topicTelemetry, bag: strings.TrimPrefix(topic[len(own+"messages/events/"):], "?")}
	case topic == own+"messages/events":
		return publishTopic{kind: topicTelemetry}
	case strings.HasPrefix(topic, "devices/"):
		return publishTopic{kind: topicOtherDevice}
	case strings.HasPrefix(topic, "$iothub/twin/GET/"):
		return publishTopic{kind: topicTwinGet, rid: queryParam(topic, "$rid")}
	case strings.HasPrefix(topic, "$iothub/twin/PATCH/properties/reported/"):
		return publishTopic{kind: topicTwinReported, rid: queryParam(topic, "$rid")}
	case strings.HasPrefix(topic, "$iothub/methods/res/"):
		rest := topic[len("$iothub/methods/res/"):]
		st, _, _ := strings.Cut(rest, "/")
		n, err := strconv.Atoi(st)
		if err != nil {
			return publishTopic{kind: topicUnknown}
		}
		return publishTopic{kind: topicMethodResult, status: n, rid: queryParam(topic, "$rid")}
	}
	return publishTopic{kind: topicUnknown}
}

// subscription bits: the topic filters IoT Hub supports.
type subscription uint8

const (
	subC2D subscription = 1 << iota
	subMethods
	subTwinResponses
	subTwinDesired
)

// parseFilter maps a SUBSCRIBE topic filter to a subscription; ok is false
// for filters the hub does not support, other says the filter names
// another device.
func parseFilter(filter string, id identity) (s subscription, other, ok bool) {
	own := "devices/" + id.DeviceID + "/"
	if id.ModuleID != "" {
		own += "modules/" + id.ModuleID + "/"
	}
	switch filter {
	case own + "messages/devicebound/#", own + "#":
		return subC2D, false, true
	case "$iothub/methods/POST/#":
		return subMethods, false, true
	case "$iothub/twin/res/#":
		return subTwinResponses, false, true
	case "$iothub/twin/PATCH/properties/desired/#":
		return subTwinDesired, false, true
	}
	other = (strings.HasPrefix(filter, "devices/") && !strings.HasPrefix(filter, own)) || strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")
	return 0, other, false
}

// queryParam returns a parameter of the query part (after '?') of topic.
func queryParam(topic, name string) string {
	_, q, ok := strings.Cut(topic, "?")
	if !ok {
		return ""
	}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == name || unescape(k) == name {
			return unescape(v)
		}
	}
	return ""
}

// parseBag decodes a property bag (k=v&k2&k3=) into system properties,
// keyed by their Azure names, and application properties. Percent
// escapes are decoded in keys and values; a '+' stays a '+'.
func parseBag(bag string, sysNames map[string]string) (system, app map[string]string) {
	if bag == "" {
		return nil, nil
	}
	for _, kv := range strings.Split(bag, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, v = unescape(k), unescape(v)
		if name, ok := sysNames[k]; ok {
			if system == nil {
				system = map[string]string{}
			}
			system[name] = v
			continue
		}
		if app == nil {
			app = map[string]string{}
		}
		app[k] = v
	}
	return system, app
}

func unescape(s string) string {
	if !strings.ContainsRune(s, '%') {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// escape percent-encodes everything but RFC 3986's unreserved characters.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
