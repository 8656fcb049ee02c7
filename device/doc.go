// Package device is Tether's Go device SDK: it connects a device to
// Tether, or to Azure IoT Hub, over MQTT 3.1.1 the way the official Azure
// IoT device SDKs do, and does the three things devices most often get
// wrong: keep-alive, reconnecting with jittered back-off, and renewing the
// SAS token before it expires.
//
// # Connecting
//
// [NewFromConnectionString] (or [New] with [Options]) makes a [Client];
// [Client.Open] connects and keeps the connection in the background until
// [Client.Close]. [Client.Run] is the same loop for callers that run
// long-lived parts as Run(ctx) error. Transport [MQTT] dials port 8883,
// [MQTTWS] dials wss://HOST:443/$iothub/websocket with subprotocol mqtt.
//
// # Failures and the error catalog
//
// Every failure is an [*Error] whose Code is an entry of the error catalog
// of package tether (401003 IoTHubUnauthorized for a refused token,
// 404104 DeviceConnectionClosedRemotely for a dropped connection, …).
// [ConnackResult] maps CONNACK return codes to it. OnConnectionState
// receives each [ConnectionState]; [ConnectionState.Explain] says it in
// words. A non-retryable failure (a wrong key, an untrusted certificate)
// stops the client at once: it never loops on an error that cannot heal.
//
// # Retry and token renewal
//
// Retryable failures are retried after [RetryPolicy.Delay]: exponential
// back-off with full jitter, 100 ms doubling to 10 s, 10–60 s after
// throttling, as in the Azure SDKs. MQTT 3.1.1 cannot change the token of
// a live connection, so the client renews by sending DISCONNECT and
// connecting again at once with a new token, RenewBefore (15 min) before
// the old one expires. The session is kept (clean session off), so no
// subscription is lost; the client re-subscribes whenever the hub reports
// that it kept no session.
//
// # Concurrency
//
// A Client is safe for concurrent use. Handlers run on their own
// goroutines; OnConnectionState runs on the client's goroutine and must
// not block.
//
// This package imports only the standard library, the root package
// tether, package sas and github.com/eclipse/paho.mqtt.golang.
package device
