// Package sas reads IoT Hub connection strings and signs, parses and
// verifies shared access signature (SAS) tokens exactly as Azure IoT Hub
// and its official SDKs do.
//
// It imports only the standard library and the root package tether, so
// both the hub and the device SDK can use it. It holds no state: every
// function is safe for concurrent use, and anything that decides by time
// takes the time as an argument.
//
// # Connection strings
//
// [ParseConnectionString] reads the three kinds Azure hands out (device,
// module and shared access policy; see [Kind]) and rejects anything
// ambiguous with a message that names the problem, such as a misspelled
// key. [ConnectionString.String] formats one back; it reveals the key.
//
// # Signing
//
// [Sign] makes a [Token] for a resource URI built by [ResourceURI]. The
// resource, the signature and the policy name are escaped as the Node.js
// SDK escapes them, so a token signed here is byte-for-byte the one the
// official SDK would send. [GenerateKey] makes a new random key.
//
// # Verifying
//
// [ParseToken] splits a token into a [Parsed] value without judging it;
// [Parsed.CheckSignature], [Parsed.CheckExpiry] and [Parsed.Covers] each
// check one thing. [Verify] runs all the checks the hub needs in the
// right order and returns an error that matches one of the sentinels
// ([ErrMalformed], [ErrSignatureMismatch], [ErrExpired], [ErrAudience],
// [ErrUnknownPolicy], [ErrPermission]) with errors.Is.
//
// The signature is computed over the resource exactly as the client sent
// it, because SDKs disagree on how to escape it (upper- or lower-case
// hex, single or double encoding). The audience check then compares the
// fully decoded resource by path segment. Tokens are valid until their
// expiry plus a clock skew, [DefaultSkew] by default.
//
// # Secrets in logs
//
// Keys are [tether.Secret] values. [Token] and [ConnectionString]
// implement [log/slog.LogValuer] and log without the signature or key;
// their String methods, which are needed on the wire, do reveal them.
package sas
