// Package alert runs alert rules and flow checks and notifies their alerts.
//
// A rule is a stats query run every `every` over the `window` ending now
// through the query engine the server answers with (its own store's, or
// a querier's over its indexers); each result row for which the rule's
// condition holds is an alert, pending for `for`, then firing, then
// resolved once the condition stops holding. A flow check follows keys
// from a start record to an end record as records are ingested (Observe,
// called from the ingest path), or, where this process ingests nothing
// (a querier), by reading each new slice of time through the engine.
// Alerts are grouped per rule or flow and per notifier, delayed by
// group_wait, re-sent after repeat_interval, silenced by silences, and
// delivered by the notifiers of internal/alert/notify with retries.
//
// State (alerts, silences, notification progress, rule health, how far
// each flow was checked) is one JSON file in the alerts directory,
// rewritten atomically; a restart resumes from it, and each flow replays
// the records since its last check from the store.
//
// It must not know HTTP routing beyond its own handlers (Routes), the
// store, or how records arrive.
package alert
