package tether

import "time"

// Log categories, as Azure IoT Hub names its resource-log categories.
const (
	CategoryConnections              = "Connections"
	CategoryDeviceIdentityOperations = "DeviceIdentityOperations"
	CategoryDirectMethods            = "DirectMethods"
	CategoryD2CTwinOperations        = "D2CTwinOperations"
	CategoryC2DTwinOperations        = "C2DTwinOperations"
	CategoryC2DCommands              = "C2DCommands"
	CategoryDeviceTelemetry          = "DeviceTelemetry"
)

// Log levels.
const (
	LevelInformation = "Information"
	LevelError       = "Error"
)

// LogRecord is one diagnostic log record: a row of the AzureDiagnostics
// table. The hub-wide columns (ResourceId, ResourceType, …) are added by
// the store; DeviceID and Reason are indexed helper columns that are not
// part of Azure's schema.
type LogRecord struct {
	Time              time.Time
	Category          string
	OperationName     string
	Level             string
	ResultType        string // the six-digit code as a string; "" for none
	ResultDescription string
	DurationMs        *int64
	Properties        string // properties_s: a JSON object as a string
	DeviceID          string
	Reason            Reason
}
