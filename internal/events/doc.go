// Package events delivers device lifecycle events (DeviceConnected,
// DeviceDisconnected, DeviceCreated, DeviceDeleted) to webhooks, in the
// JSON of Azure Event Grid's IoT Hub events or as CloudEvents 1.0, with at
// least once delivery that survives a restart.
//
// # Publishing
//
// The server turns what happened into a [DeviceEvent] and calls
// [Events.Publish]. Publish renders the event's data member (Azure's
// fields exactly; Tether's additions under "tetherConnectionInfo") and
// writes one outbox row per subscription that wants the event's type, in
// one statement, before it returns; then it wakes the sender. An event
// that Publish accepted is delivered after a crash or a restart.
//
// # Delivering
//
// [Events.Run] is the delivery loop: every Poll interval, and at once
// after a Publish, it sends each subscription's due events, oldest first.
// An Event Grid subscription gets up to MaxBatch events per request as
// one JSON array; a CloudEvents subscription gets one event per request
// in structured mode (application/cloudevents+json). Every request
// carries aeg-event-type: Notification and X-Tether-Signature:
// sha256=<hex HMAC-SHA256 of the body keyed with the subscription's
// secret> (see [Sign] and [Verify]).
//
// A 2xx answer marks the events delivered. Anything else backs the
// subscription off: no request before MinBackoff doubled per consecutive
// failure, capped at MaxBackoff and shortened by up to a fifth at random
// (a Retry-After of 429 and 503 answers is honoured up to MaxBackoff).
// Its events wait meanwhile, so they keep their order. An event is given
// up on (dead) after MaxAttempts attempts or MaxAge, and at once on 400
// or 413, which Event Grid also treats as final. Every attempt is
// recorded with its time, status or error and latency; [Events.Deliveries]
// reads them.
//
// Time is a parameter: Run reads Options.Now, and the decisions are made
// by deliverDue(ctx, now).
//
// # Connection events and Azure's 60-second snapshot
//
// Azure samples connection state every 60 seconds and publishes only the
// latest state when it changed, so it may skip a short disconnect.
// Tether publishes every change its debounced presence announces (a
// disconnect followed by a reconnect within the grace window announces
// nothing), promptly. Consumers written for Azure keep working: they
// compare sequenceNumber strings and keep the latest state.
//
// # Dependencies
//
// The package imports the root package, wire and the standard library
// (and x/sync); it declares the [Store] it needs, which the server
// adapts from the SQLite store. It must not import other components. An
// [*Events] is safe for concurrent use.
package events
