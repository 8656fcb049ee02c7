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
	DeviceMaximumActiveFileUploadLimitExceeded ResultCode = 403006
	OperationNotAvailableInCurrentTier         ResultCode = 403010
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
	ThrottlingMaxActiveJobCountExceeded        ResultCode = 429004
	DeviceThrottlingLimitExceeded              ResultCode = 429005
	ClientClosedRequest                        ResultCode = 499000
	ServerError                                ResultCode = 500001
	GenericTimeout                             ResultCode = 500008
	ServiceUnavailable                         ResultCode = 503001
	PartitionNotFound                          ResultCode = 503003
	ServerBusy                                 ResultCode = 503005
	ReceiveLinkOpensThrottled                  ResultCode = 503008
	ConnectionUnavailable                      ResultCode = 503101
	DeviceUnavailable                          ResultCode = 503102
	GatewayTimeout                             ResultCode = 504101

	// Tether's own codes, for its entities that Azure IoT Hub does not
	// have (alert rules, action groups, event subscriptions): Azure's
	// table has no generic not-found or conflict code, and 404001
	// DeviceNotFound would name the wrong thing.
	NotFound ResultCode = 404000
	Conflict ResultCode = 409000
)

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
