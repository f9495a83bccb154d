package agent

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the agent's own, served on metrics_addr.
type Metrics struct {
	linesRead    *prometheus.CounterVec
	bytesRead    *prometheus.CounterVec
	linesSplit   *prometheus.CounterVec
	decodeErrors *prometheus.CounterVec
	truncations  *prometheus.CounterVec
	filesOpen    *prometheus.GaugeVec
	behind       *prometheus.GaugeVec
	records      prometheus.Counter
	batches      *prometheus.CounterVec
	sendErrors   prometheus.Counter
	rejected     prometheus.Counter
	bufferBytes  prometheus.Gauge
	bufferMax    prometheus.Gauge
	waits        prometheus.Counter
}

// NewMetrics registers the agent's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	in := []string{"input"}
	m := &Metrics{
		linesRead:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_agent_lines_read_total", Help: "Raw lines read from files, by input (its index in inputs)."}, in),
		bytesRead:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_agent_bytes_read_total", Help: "Bytes read from files, by input."}, in),
		linesSplit:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_agent_lines_split_total", Help: "Lines longer than max_line_bytes, cut into several records."}, in),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_agent_decode_errors_total", Help: "Lines a docker or cri input could not read in its format (they are sent as text)."}, in),
		truncations:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_agent_truncations_total", Help: "Files found truncated or rewritten (read again from their start)."}, in),
		filesOpen:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_agent_files_open", Help: "Files being read, by input."}, in),
		behind:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_agent_bytes_behind", Help: "Bytes of a file not read yet (its size minus what was read), by path."}, []string{"path"}),
		records:      prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_agent_records_total", Help: "Records put into batches (after the pipeline)."}),
		batches:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_agent_batches_total", Help: "Batches by result: sent (acknowledged), refused (the server refused them for good; not sent again)."}, []string{"result"}),
		sendErrors:   prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_agent_send_errors_total", Help: "Failed sends (the batch is sent again)."}),
		rejected:     prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_agent_rejected_records_total", Help: "Records of acknowledged batches that the server rejected one by one (bad input)."}),
		bufferBytes:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_agent_buffer_bytes", Help: "Bytes of batches in the disk buffer, not yet acknowledged."}),
		bufferMax:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_agent_buffer_max_bytes", Help: "buffer.max_bytes."}),
		waits:        prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_agent_backpressure_waits_total", Help: "Times reading stopped because the disk buffer was full."}),
	}
	if reg != nil {
		reg.MustRegister(m.linesRead, m.bytesRead, m.linesSplit, m.decodeErrors, m.truncations, m.filesOpen, m.behind,
			m.records, m.batches, m.sendErrors, m.rejected, m.bufferBytes, m.bufferMax, m.waits)
	}
	return m
}

// inputMetrics are one input's children.
type inputMetrics struct {
	linesRead, bytesRead, linesSplit, decodeErrors, truncations prometheus.Counter
	filesOpen                                                   prometheus.Gauge
	behind                                                      *prometheus.GaugeVec
}

func (m *Metrics) input(name string) *inputMetrics {
	return &inputMetrics{
		linesRead: m.linesRead.WithLabelValues(name), bytesRead: m.bytesRead.WithLabelValues(name),
		linesSplit: m.linesSplit.WithLabelValues(name), decodeErrors: m.decodeErrors.WithLabelValues(name),
		truncations: m.truncations.WithLabelValues(name), filesOpen: m.filesOpen.WithLabelValues(name), behind: m.behind,
	}
}
