// Package dashboard owns the web UI's dashboards: what one is (a name, a
// time range and refresh interval shared by its panels, and the panels,
// each a query drawn as a chart), how a client's JSON is checked, and how
// they are kept, one file per dashboard in a folder per tenant of the data
// directory, each write durable before it is acknowledged.
//
// It must not know HTTP, keys or roles (internal/api puts it behind the
// routes), nor the query language: a panel's query is checked when it runs.
package dashboard
