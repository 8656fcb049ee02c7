// Package api serves the hub's HTTPS service API, compatible with the
// Azure IoT Hub REST API that the official service SDKs (azure-iothub and
// its siblings) call: the device registry, twins and direct methods.
//
// # Compatibility
//
// Every request carries ?api-version=; every reply is JSON with
// Content-Type application/json; errors use Azure's classic body
// {"Message":"ErrorCode:<Name>;<text>","ExceptionMessage":"Tracking ID:…"}
// and the iothub-errorcode header, because that is the shape every SDK
// parses. Entities carry a quoted ETag header and honour If-Match,
// including the quoted star "*" the SDKs send.
//
// # Authorization
//
// Requests are authorised with a shared access policy token
// (SharedAccessSignature sr=<host>&sig=…&se=…&skn=<policy>). Reads of the
// registry need RegistryRead, writes RegistryWrite, twins and methods
// ServiceConnect. Log queries (POST /v1/query) need ServiceConnect, the
// right that already reads telemetry and the diagnostic settings.
//
// # Log queries
//
// POST /v1/query takes and answers Log Analytics' query API shapes
// ({"query","timespan"} → {"tables":[{"name":"PrimaryResult",…}]}), and
// its errors are Log Analytics' ({"error":{"code","message","innererror"}})
// rather than the classic body, because that is what Log Analytics
// clients parse. The KQL itself runs behind the LogQuerier interface.
//
// # Dependencies
//
// The package declares the small interfaces it needs (DeviceStore,
// TwinStore, MethodInvoker) and imports no other component; the server
// package connects it to the store and the gateway. It is safe for
// concurrent use.
package api
