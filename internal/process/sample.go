package process

import (
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "sample",
		Summary: "Keeps 1 in rate of the records it sees (give it a condition: if, such as level:debug): the first, then every rate-th. The others are dropped and counted in sluice_processor_dropped_records_total.",
		New:     func() Builder { return &sampleConfig{Rate: 10} },
	})
}

type sampleConfig struct {
	Rate      uint64 `yaml:"rate" doc:"Keep one record in this many (1 keeps all)."`
	RateField string `yaml:"rate_field" doc:"When set, kept records get this field holding rate, so that counts can be scaled back up."`
}

func (c *sampleConfig) Build(Env) (Processor, error) {
	if c.Rate == 0 {
		return nil, fmt.Errorf("rate must be at least 1")
	}
	if c.RateField != "" {
		if err := checkWritable(c.RateField); err != nil {
			return nil, fmt.Errorf("rate_field: %w", err)
		}
	}
	return &sampleProc{rate: c.Rate, field: c.RateField, value: strconv.FormatUint(c.Rate, 10)}, nil
}

type sampleProc struct {
	rate         uint64
	field, value string
	seen         atomic.Uint64
}

func (s *sampleProc) Process(r *record.Record) Result {
	if (s.seen.Add(1)-1)%s.rate != 0 {
		return Drop
	}
	if s.field != "" {
		setField(r, s.field, s.value)
	}
	return Keep
}
