// Package promreg registers Prometheus collectors so that the metrics of a
// component can be built more than once against one registry. It is a leaf:
// any package may use it without pulling in what its callers are.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg, or returns the collector already registered
// under the same description, so that a receiver's metrics can be built more
// than once against one registry (tests, restarts of a listener). A
// collector that conflicts with a different one is a programming error: it
// panics.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("promreg: register metrics: " + err.Error())
	}
	return c
}
