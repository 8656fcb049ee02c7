// Package portal serves Tether's web portal: a single-page application
// (its assets embedded with go:embed, no CDN) and the few endpoints it
// needs on the hub's HTTPS port.
//
// # Security model
//
// A person logs in with a shared access policy's connection string or
// with the admin password (see [Passwords]). The portal keeps the
// session in memory and gives the browser a cookie that is Secure,
// HttpOnly and SameSite=Strict. Every mutating request (POST, PUT, PATCH,
// DELETE) must carry the session's CSRF token in the X-CSRF-Token header;
// the login itself is protected by a double-submit token.
//
// The browser never holds a key. Calls to the service API go through
// /portal/api/svc/..., where the portal signs a short-lived SAS token
// with the session's policy and hands the request to the API handler in
// process, so the API's own rights checks decide: a registryRead session
// cannot delete a device, whatever the page shows. The admin password
// acts as the iothubowner policy. A session whose policy key was rotated
// or whose policy was deleted ends at its next request.
//
// Every answer carries a strict Content-Security-Policy (no inline
// script or style), X-Frame-Options DENY and nosniff.
//
// # Data
//
// The overview and the device timeline read the log store (AzureMetrics
// and AzureDiagnostics) directly through a [Querier]; the log search
// page calls POST /v1/query through the proxy.
//
// The portal imports no other component; internal/server connects it.
// It is safe for concurrent use.
package portal
