// Package alert evaluates alert rules and keeps their state.
//
// A metric rule aggregates the samples of one hub metric (avg, min, max,
// total or count) over a window and compares the result with a threshold,
// or with the previous window ("dropped by X%"). A log rule runs a KQL
// query over the window and compares its row count, or an aggregate of a
// numeric column, with a threshold. Every rule is evaluated at its own
// frequency (10 s at least) by [Engine.Run].
//
// # State machine
//
// Each rule is Inactive, Pending, Fired or Resolved. A rule whose
// condition holds goes to Pending, and to Fired once the condition held at
// PendingEvaluations evaluations in a row (1: at once). A Fired rule
// whose condition no longer holds goes to Resolved when it auto-resolves.
// A Pending rule whose condition stops holding goes back to Inactive. Every
// change is written to the store (the Alerts table of the logs) and the
// changes to Fired and Resolved are handed to the [Notifier] on their own
// goroutine, so a slow receiver never holds up evaluation.
//
// Time is a parameter: [Engine.Sample] and [Engine.Evaluate] take now, and
// Run only calls them from a ticker.
//
// # Interfaces
//
// The engine declares what it needs: a [Store] for rules, states and
// history, a [MetricSource] for live metric values, a [LogQuerier] for
// KQL, [ActionGroups] to check names and a [Notifier]. internal/server
// connects them; this package imports no other component.
//
// # Concurrency
//
// An Engine is safe for concurrent use. One mutex guards the rules and
// the metric samples; it is never held across a store write, a query or a
// notification.
package alert
