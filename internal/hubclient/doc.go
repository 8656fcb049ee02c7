// Package hubclient is a Go client for the hub's Azure-compatible service
// API: the device registry, twins and direct methods. The CLI uses it for
// both remote hubs (over HTTPS, with a policy connection string) and the
// local data folder (with the API handler called in-process), so both
// paths share the API's semantics.
//
// Errors come back as *tether.Error with the Azure result code parsed
// from the response body. It imports the root package, sas and wire.
package hubclient
