// Package config owns Sluice's YAML configuration: its structure, defaults,
// validation and the commented listing that `sluice config defaults` prints.
// Every option is documented once, in its struct tag `doc:"…"`, and that tag
// is the single source for the printed defaults and docs/configuration.md.
//
// The package knows nothing of the components it configures; cmd/sluice maps
// the sections onto each component's options.
package config
