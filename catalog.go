package tether

import (
	"fmt"
	"sort"
)

// ResultCode is a six-digit Azure IoT Hub result code such as 404104
// DeviceConnectionClosedRemotely. The first three digits are the HTTP-like
// status class. The catalog below is the hub's one table of codes: the API,
// the gateway, the diagnostic logs, the CLI and the docs all read it.
type ResultCode int

// The codes Tether emits or documents, from Azure's error table.
const (
	InvalidProtocolVersion                     ResultCode = 400001
	ArgumentInvalid                            ResultCode = 400004
	ConnectionForcefullyClosedOnNewConnection  ResultCode = 400027
	ConnectionForcefullyClosedOnFaultInjection ResultCode = 400029
	ConnectionRejectedOnFaultInjection         ResultCode = 400030
	IoTHubUnauthorizedAccess                   ResultCode = 401002
	IoTHubUnauthorized                         ResultCode = 401003
	IoTHubSuspended                            ResultCode = 403001
	IoTHubQuotaExceeded                        ResultCode = 403002
	DeviceMaximumQueueDepthExceeded            ResultCode = 403004
	DeviceDisabled                             ResultCode = 403012
	DeviceNotFound                             ResultCode = 404001
	ModuleNotFound                             ResultCode = 404010
	DeviceNotOnline                            ResultCode = 404103
	DeviceConnectionClosedRemotely             ResultCode = 404104
	DeviceAlreadyExists                        ResultCode = 409001
	LinkCreationConflict                       ResultCode = 409002
	PreconditionFailed                         ResultCode = 412001
	DeviceMessageLockLost                      ResultCode = 412002
	MessageTooLarge                            ResultCode = 413001
	ThrottlingException                        ResultCode = 429001
	ThrottleBacklogLimitExceeded               ResultCode = 429002
	ThrottlingBacklogTimeout                   ResultCode = 429003
	DeviceThrottlingLimitExceeded              ResultCode = 429005
	ClientClosedRequest                        ResultCode = 499000
	ServerError                                ResultCode = 500001
	GenericTimeout                             ResultCode = 500008
	ServiceUnavailable                         ResultCode = 503001
	ServerBusy                                 ResultCode = 503005
	GatewayTimeout                             ResultCode = 504101
)

// CodeInfo is one entry of the catalog.
type CodeInfo struct {
	Code      ResultCode
	Name      string // Azure's error name, as logged in ResultDescription
	HTTP      int    // the HTTP status on the REST API; 0 where Azure has none
	Meaning   string // one line: what happened
	Retryable bool   // whether retrying the same thing can succeed
}

var catalog = map[ResultCode]CodeInfo{
	InvalidProtocolVersion:                     {0, "InvalidProtocolVersion", 400, "the api-version is missing or not supported", false},
	ArgumentInvalid:                            {0, "ArgumentInvalid", 400, "the request is malformed: it cannot be parsed or fails validation", false},
	ConnectionForcefullyClosedOnNewConnection:  {0, "ConnectionForcefullyClosedOnNewConnection", 0, "another client connected with the same device identity, so this connection was closed", false},
	ConnectionForcefullyClosedOnFaultInjection: {0, "ConnectionForcefullyClosedOnFaultInjection", 0, "the connection was closed by fault injection or a hub upgrade", true},
	ConnectionRejectedOnFaultInjection:         {0, "ConnectionRejectedOnFaultInjection", 0, "the connection was refused by fault injection or a hub upgrade", true},
	IoTHubUnauthorizedAccess:                   {0, "IotHubUnauthorizedAccess", 401, "the service API caller is not authorized: its token is missing, malformed, expired, forged, for another hub, or lacks a right", false},
	IoTHubUnauthorized:                         {0, "IoTHubUnauthorized", 401, "authentication failed: the token is expired, forged, for another hub or device, or the device is unknown", false},
	IoTHubSuspended:                            {0, "IotHubSuspended", 403, "the hub is suspended", false},
	IoTHubQuotaExceeded:                        {0, "IotHubQuotaExceeded", 403, "the hub's message quota is used up", false},
	DeviceMaximumQueueDepthExceeded:            {0, "DeviceMaximumQueueDepthExceeded", 403, "the device already has the maximum number of queued cloud-to-device messages", false},
	DeviceDisabled:                             {0, "DeviceDisabled", 403, "the device is disabled in the registry", false},
	DeviceNotFound:                             {0, "DeviceNotFound", 404, "no device with that ID is registered", false},
	ModuleNotFound:                             {0, "ModuleNotFound", 404, "no module with that ID is registered on the device", false},
	DeviceNotOnline:                            {0, "DeviceNotOnline", 404, "the device is not connected, or has not subscribed to direct methods", true},
	DeviceConnectionClosedRemotely:             {0, "DeviceConnectionClosedRemotely", 404, "the connection closed without an MQTT DISCONNECT: network loss, keep-alive timeout, or the end of a token's life", true},
	DeviceAlreadyExists:                        {0, "DeviceAlreadyExists", 409, "a device with that ID is already registered", false},
	LinkCreationConflict:                       {0, "LinkCreationConflict", 409, "a second connection for the same device replaced the first", false},
	PreconditionFailed:                         {0, "PreconditionFailed", 412, "the If-Match ETag does not match the current entity (RFC 7232)", false},
	DeviceMessageLockLost:                      {0, "DeviceMessageLockLost", 0, "a cloud-to-device message was completed after its lock expired", false},
	MessageTooLarge:                            {0, "MessageTooLarge", 413, "the message is larger than the hub accepts", false},
	ThrottlingException:                        {0, "ThrottlingException", 429, "a rate limit of the hub was exceeded", true},
	ThrottleBacklogLimitExceeded:               {0, "ThrottleBacklogLimitExceeded", 429, "the backlog of throttled requests is full", true},
	ThrottlingBacklogTimeout:                   {0, "ThrottlingBacklogTimeout", 429, "a throttled request timed out in the backlog", true},
	DeviceThrottlingLimitExceeded:              {0, "DeviceThrottlingLimitExceeded", 429, "the device exceeded its own rate limit", true},
	ClientClosedRequest:                        {0, "ClientClosedRequest", 0, "the client went away before the hub answered", true},
	ServerError:                                {0, "ServerError", 500, "an internal fault of the hub", true},
	GenericTimeout:                             {0, "GenericTimeout", 500, "the hub could not complete the connection in time", true},
	ServiceUnavailable:                         {0, "ServiceUnavailable", 503, "the hub is unavailable", true},
	ServerBusy:                                 {0, "ServerBusy", 503, "the hub is too busy to take the request", true},
	GatewayTimeout:                             {0, "GatewayTimeout", 504, "the device did not answer the direct method in time", true},
}

func init() {
	for c, info := range catalog {
		info.Code = c
		catalog[c] = info
	}
}

// Info returns the catalog entry of c. Unknown codes get a generic entry
// whose name is the number.
func (c ResultCode) Info() CodeInfo {
	if info, ok := catalog[c]; ok {
		return info
	}
	return CodeInfo{Code: c, Name: fmt.Sprint(int(c)), HTTP: int(c) / 1000, Meaning: "unknown result code"}
}

// Name returns Azure's name for c, such as "DeviceNotFound".
func (c ResultCode) Name() string { return c.Info().Name }

// HTTPStatus returns the HTTP status class of c (404 for 404104).
func (c ResultCode) HTTPStatus() int { return int(c) / 1000 }

// String formats c as "404001 DeviceNotFound".
func (c ResultCode) String() string { return fmt.Sprintf("%d %s", int(c), c.Name()) }

// Kind returns the error Kind that matches c's status class.
func (c ResultCode) Kind() Kind {
	switch c.HTTPStatus() {
	case 400:
		return KindInvalid
	case 401:
		return KindUnauthorized
	case 403:
		return KindForbidden
	case 404:
		return KindNotFound
	case 409:
		return KindConflict
	case 412:
		return KindPrecondition
	case 413:
		return KindTooLarge
	case 429:
		return KindThrottled
	case 503:
		return KindUnavailable
	case 504:
		return KindTimeout
	}
	return KindInternal
}

// Codes lists the catalog in ascending order.
func Codes() []CodeInfo {
	out := make([]CodeInfo, 0, len(catalog))
	for _, info := range catalog {
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
