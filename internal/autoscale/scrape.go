package autoscale

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ConsumedMetric is the indexer's counter of records consumed and
// committed (internal/kafka).
const ConsumedMetric = "sluice_kafka_consumed_records_total"

// maxMetricsBytes bounds what is read of one indexer's /metrics.
const maxMetricsBytes = 8 << 20

// ScrapeConsumed reads ConsumedMetric from one indexer's /metrics.
func ScrapeConsumed(ctx context.Context, hc *http.Client, url string) (float64, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	return ParseConsumed(io.LimitReader(resp.Body, maxMetricsBytes))
}

// ParseConsumed finds ConsumedMetric in a Prometheus text exposition.
func ParseConsumed(r io.Reader) (float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return 0, fmt.Errorf("parse metrics: %w", err)
	}
	f, ok := fams[ConsumedMetric]
	if !ok || len(f.GetMetric()) == 0 {
		return 0, fmt.Errorf("no %s in the metrics (not an indexer?)", ConsumedMetric)
	}
	var sum float64
	for _, m := range f.GetMetric() {
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetUntyped() != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum, nil
}
