package main

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7, 7}, 7},
		{[]float64{math.NaN(), 1, 9, 5}, 5},
		{[]float64{2, math.NaN()}, 2},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.xs...)
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
		for i := range in {
			if math.Float64bits(in[i]) != math.Float64bits(tt.xs[i]) {
				t.Fatalf("median reordered its input: %v", tt.xs)
			}
		}
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(median([]float64{math.NaN()})) {
		t.Error("median of nothing is not NaN")
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 … 1, unsorted
	}
	tests := []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{hundred, 50, 50},
		{hundred, 99, 99},
		{hundred, 100, 100},
		{hundred, 1, 1},
		{[]float64{10, 20, 30, 40, 50}, 50, 30},
		{[]float64{10, 20, 30, 40, 50}, 99, 50},
		{[]float64{10, 20, 30, 40, 50}, 20, 10},
		{[]float64{10, 20, 30, 40, 50}, 21, 20},
		{[]float64{42}, 99, 42},
	}
	for _, tt := range tests {
		if got := percentile(tt.xs, tt.p); got != tt.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.xs), tt.p, got, tt.want)
		}
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing is not NaN")
	}
}
