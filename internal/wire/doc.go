// Package wire holds the JSON shapes of the Azure IoT Hub service API
// (2020-09-30 swagger and what the SDKs send): Device, Twin, direct method
// calls and the classic error body, with conversions from the root
// package's types. The API serves them and the service client reads them,
// so both sides share one definition.
//
// It imports only the root package and the standard library.
package wire
