// Package tether is the vocabulary of the Tether IoT hub: devices, twins,
// shared access policies and their rights, the error type, and the catalog
// of Azure IoT Hub result codes that every other part of the hub speaks.
//
// It imports only the standard library and holds no behaviour beyond the
// validation and small pure operations of its own types. Components live
// under internal/ and are wired together by internal/server; the public
// packages sas and device build on this one.
//
// # Errors
//
// [Error] carries a [Kind] (not found, invalid, conflict, …) for control
// flow and an Azure [ResultCode] (404001 DeviceNotFound, 401003
// IoTHubUnauthorized, …) for the wire. Edges map them: the HTTPS API to a
// status and an Azure error body, the MQTT gateway to a CONNACK code and a
// diagnostic log row. Only an Error's Message is shown to callers; any
// wrapped cause is for the operator's log.
//
// # Secrets
//
// Keys are held as [Secret], whose LogValue and String hide the value, so a
// key that reaches a log line by mistake prints as "REDACTED".
package tether
