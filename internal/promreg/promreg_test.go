package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegister(t *testing.T) {
	counter := func(name string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "h"}, []string{"l"})
	}
	tests := []struct {
		name      string
		second    prometheus.Collector
		wantFirst bool // the second call returns the first collector
		wantPanic bool
	}{
		{name: "same description returns the first", second: counter("x_total"), wantFirst: true},
		{name: "other name registers anew", second: counter("y_total")},
		{name: "conflicting description panics", second: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "x_total", Help: "other"}, []string{"l"}), wantPanic: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			first := Register(reg, counter("x_total"))
			defer func() {
				if r := recover(); (r != nil) != tt.wantPanic {
					t.Fatalf("panic = %v, want panic %v", r, tt.wantPanic)
				}
			}()
			got := Register(reg, tt.second)
			if (got == prometheus.Collector(first)) != tt.wantFirst {
				t.Fatalf("returned the first collector = %v, want %v", got == prometheus.Collector(first), tt.wantFirst)
			}
		})
	}
}
