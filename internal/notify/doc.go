// Package notify keeps action groups (named lists of receivers that
// alert rules share) and delivers alert notifications to them: a webhook
// gets Azure Monitor's common alert schema JSON, an Alertmanager gets the
// alert through its v2 API (POST /api/v2/alerts), an email address gets a
// plain-text email over SMTP.
//
// # The contract with the alert engine
//
// The alert engine describes each state change of a rule as an [Alert]
// (Fired, Resolved) and the server passes it to [Dispatcher.Notify] with
// the rule's action group names. Notify validates it and writes one
// outbox row per receiver, in one transaction, before it returns; it
// never waits for a receiver. [Dispatcher.Test] sends a Test alert at
// once and reports each receiver's answer (tether alert test,
// tether action-group test).
//
// # Delivering
//
// [Dispatcher.Run] is the delivery loop: every Poll, at once after a
// Notify and whenever a send finishes, it starts a send for each receiver
// whose oldest waiting notification is due, up to Parallel sends at
// once, each bounded by Timeout. A receiver's notifications go one at a
// time, oldest first, so a Resolved never overtakes its Fired; a slow or
// failing receiver holds only its own queue.
//
// A 2xx answer (an accepted email) is delivered. No answer, 408, 429 and
// 5xx (a 4xx SMTP reply) are retried: after MinBackoff doubled per
// failed attempt, capped at MaxBackoff, less up to a fifth at random (a
// longer Retry-After is honoured up to MaxBackoff). A notification is
// given up on (dead) at a final answer (a redirect, another 4xx, a 5xx
// SMTP reply), after MaxAttempts attempts, or when it is MaxAge old.
// Every attempt is recorded with its time, status, error, latency and
// outcome; [Dispatcher.History] reads them.
//
// Webhook requests carry X-Tether-Signature: sha256=<hex HMAC-SHA256 of
// the body keyed with the group's secret> (see [Sign] and [Verify]) and
// X-Tether-Alert-Id. Receiver URLs often hold credentials in their query
// string: [Redact] hides query values and passwords wherever a URL is
// logged, recorded or shown.
//
// Time is a parameter: Run reads Options.Now, and the decisions
// (dispatch, decide, backoff) take the time they decide at.
//
// # Dependencies
//
// The package imports the root package, wire and the standard library.
// It declares the [Store] it needs, which the server adapts from the
// SQLite store, and must not import other components. A [*Dispatcher]
// is safe for concurrent use.
package notify
