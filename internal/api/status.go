package api

import (
	"net/http"
	"sort"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/quota"
)

// rateWindow is the shortest interval over which ingest rates are computed:
// shorter windows would turn one batch into a spike.
const rateWindow = time.Second

// receiverStatus is one ingest protocol's counters and current rate.
type receiverStatus struct {
	Protocol      string  `json:"protocol"`
	Records       float64 `json:"records_total"`
	Rejected      float64 `json:"rejected_total"`
	Bytes         float64 `json:"bytes_total"`
	RecordsPerSec float64 `json:"records_per_sec"`
	BytesPerSec   float64 `json:"bytes_per_sec"`
}

// statusResponse is the body of GET /api/v1/status.
type statusResponse struct {
	Version          string           `json:"version"`
	Time             time.Time        `json:"time"`
	UptimeSeconds    float64          `json:"uptime_seconds"`
	Pipeline         pipeline.Status  `json:"pipeline"`
	WALFill          float64          `json:"wal_fill"`
	Backpressure     bool             `json:"backpressure"`
	BackpressurePerS float64          `json:"backpressure_per_sec"`
	Receivers        []receiverStatus `json:"receivers"`
	InFlight         inFlightStatus   `json:"ingest_in_flight"`
	Query            queryStatus      `json:"query"`
	// Kafka is an indexer's place in the scale-out (Config.Kafka).
	Kafka *KafkaStatus `json:"kafka,omitempty"`
	// Querier is a querier's view of its indexers (Config.Querier).
	Querier any `json:"querier,omitempty"`
	// Tenants are the figures and quotas of the tenants the caller may
	// see (every tenant seen, with authentication off).
	Tenants []quota.TenantStatus `json:"tenants"`
}

// tenantOnlyStatus is the status of a key without role admin: its own
// tenants' figures, nothing of the server's or other tenants' traffic.
type tenantOnlyStatus struct {
	Version string               `json:"version"`
	Time    time.Time            `json:"time"`
	Tenants []quota.TenantStatus `json:"tenants"`
}

// KafkaStatus is what a querier reads of a store indexer: its consumer
// group, the partitions it consumes now, and those whose records its
// store holds. Indexers of one group hold one copy of the topic between
// them (after a rebalance a partition's history is split across several
// of them); each group holds a full copy.
type KafkaStatus struct {
	Topic    string            `json:"topic"`
	Group    string            `json:"group"`
	Assigned []int32           `json:"assigned"`
	Stored   []StoredPartition `json:"stored"`
	// GroupLag is the whole group's lag as last read from the brokers
	// (sluice_kafka_group_lag), absent before the first read.
	GroupLag *int64 `json:"group_lag,omitempty"`
}

// StoredPartition is a partition whose records the indexer's store holds,
// up to offset Done, within the offset ranges Ranges ([first, last],
// inclusive, in order): a querier divides offsets that two indexers of
// one group both hold (a batch stored by one and consumed again by the
// other after a crash before its offset commit) between them.
type StoredPartition struct {
	Topic     string     `json:"topic"`
	Partition int32      `json:"partition"`
	Done      int64      `json:"done"`
	Ranges    [][2]int64 `json:"ranges,omitempty"`
}

// queryStatus is how the query slots (query.max_concurrent) are used, and
// the query limits in force (query.*, derived values resolved).
type queryStatus struct {
	Running         int   `json:"running"` // queries and live tails holding a slot
	MaxConcurrent   int   `json:"max_concurrent"`
	Tails           int   `json:"tails"` // live tails holding a slot
	MaxTails        int   `json:"max_tails"`
	TailBufferBytes int64 `json:"tail_buffer_bytes"`
	MaxResultBytes  int64 `json:"max_result_bytes"`
	// ResultBytes is what running queries keep for their answers now.
	ResultBytes         int64         `json:"result_bytes"`
	MaxAggregationBytes int64         `json:"max_aggregation_bytes"`
	Timeout             time.Duration `json:"timeout_ns"`
	WriteTimeout        time.Duration `json:"write_timeout_ns"`
	DefaultLimit        int           `json:"default_limit"`
	MaxLimit            int           `json:"max_limit"`
	MaxGroups           int           `json:"max_groups"`
	MaxScannedRecords   int64         `json:"max_scanned_records"` // 0: no bound
	MaxScannedBytes     int64         `json:"max_scanned_bytes"`   // 0: no bound
	MaxRegexSize        int           `json:"max_regex_size"`
}

// inFlightStatus is the bound on request bytes in flight across receivers
// (ingest.max_in_flight_bytes), read from its metrics, and the largest
// request (ingest.max_request_bytes): the bytes in flight stay within the
// bound plus one request.
type inFlightStatus struct {
	Bytes           float64 `json:"bytes"`
	MaxBytes        float64 `json:"max_bytes"`
	Rejected        float64 `json:"rejected_total"`
	MaxRequestBytes int64   `json:"max_request_bytes,omitempty"`
}

// ingestRates turns the monotonic ingest counters into per-second rates by
// remembering the previous sample; callers share it, so a rate is always
// over the last rateWindow or more, whoever asked.
type ingestRates struct {
	mu       sync.Mutex
	at       time.Time
	prev     map[string]receiverStatus
	prevBP   int64
	rates    map[string][2]float64 // protocol → records/s, bytes/s
	bpPerSec float64
}

// status answers what an operator needs to see whether logs are flowing.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var may func(string) bool
	tenants := []quota.TenantStatus{}
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		may = p.MayAct
		if s.cfg.Quotas != nil {
			tenants = s.cfg.Quotas.Status(may)
		}
		if !p.Has(auth.RoleAdmin) {
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, tenantOnlyStatus{Version: s.cfg.Version, Time: now.UTC(), Tenants: tenants})
			return
		}
	} else if s.cfg.Quotas != nil {
		tenants = s.cfg.Quotas.Status(nil)
	}
	st := s.cfg.Backend.Status()
	var families []*dto.MetricFamily
	var err error
	if s.cfg.Gatherer != nil {
		if families, err = s.cfg.Gatherer.Gather(); err != nil {
			writeError(w, http.StatusInternalServerError, "read ingest metrics: %v", err)
			return
		}
	}
	recv, inFlight := receiversOf(families), inFlightOf(families)
	inFlight.MaxRequestBytes = s.cfg.MaxRequestBytes
	bpRate := s.rates.update(now, recv, st.BackpressureTotal)
	var ks *KafkaStatus
	if s.cfg.Kafka != nil {
		if ks, err = s.cfg.Kafka(); err != nil {
			writeError(w, http.StatusInternalServerError, "read Kafka partitions: %v", err)
			return
		}
	}
	resp := statusResponse{
		Version:          s.cfg.Version,
		Time:             now.UTC(),
		UptimeSeconds:    now.Sub(s.started).Seconds(),
		Pipeline:         st,
		Backpressure:     bpRate > 0,
		BackpressurePerS: bpRate,
		Receivers:        recv,
		Kafka:            ks,
		InFlight:         inFlight,
		Query:            s.queryStatus(),
		Tenants:          tenants,
	}
	if s.cfg.Querier != nil {
		resp.Querier = s.cfg.Querier()
	}
	if st.WALMaxBytes > 0 {
		resp.WALFill = float64(st.WALBytes) / float64(st.WALMaxBytes)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, resp)
}

// queryStatus is the query slots' use and the query limits.
func (s *Server) queryStatus() queryStatus {
	l := &s.cfg.Limits
	return queryStatus{
		Running: len(s.sem), MaxConcurrent: cap(s.sem), Tails: len(s.tails), MaxTails: cap(s.tails),
		TailBufferBytes: l.TailBufferBytes, MaxResultBytes: l.MaxResultBytes, ResultBytes: s.results.Bytes(),
		MaxAggregationBytes: l.MaxAggregationBytes, Timeout: l.Timeout, WriteTimeout: l.WriteTimeout,
		DefaultLimit: l.DefaultLimit, MaxLimit: l.MaxLimit, MaxGroups: l.MaxGroups,
		MaxScannedRecords: l.MaxScannedRecords, MaxScannedBytes: l.MaxScannedBytes, MaxRegexSize: l.MaxRegexSize,
	}
}

// update fills the rates of recv from the previous sample and returns the
// rate of backpressure answers.
func (r *ingestRates) update(now time.Time, recv []receiverStatus, bpTotal int64) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if dt := now.Sub(r.at); r.prev != nil && dt >= rateWindow {
		r.rates = make(map[string][2]float64, len(recv))
		for _, cur := range recv {
			p := r.prev[cur.Protocol]
			r.rates[cur.Protocol] = [2]float64{
				nonNegative(cur.Records-p.Records) / dt.Seconds(),
				nonNegative(cur.Bytes-p.Bytes) / dt.Seconds(),
			}
		}
		r.bpPerSec = nonNegative(float64(bpTotal-r.prevBP)) / dt.Seconds()
	}
	if r.prev == nil || now.Sub(r.at) >= rateWindow {
		r.at = now
		r.prevBP = bpTotal
		r.prev = make(map[string]receiverStatus, len(recv))
		for _, cur := range recv {
			r.prev[cur.Protocol] = cur
		}
	}
	for i := range recv {
		rate := r.rates[recv[i].Protocol]
		recv[i].RecordsPerSec, recv[i].BytesPerSec = rate[0], rate[1]
	}
	return r.bpPerSec
}

func nonNegative(f float64) float64 { return max(f, 0) }

// receiversOf reads the shared ingest counters (internal/ingest's Metrics)
// from the registry's metrics, one entry per protocol label.
func receiversOf(families []*dto.MetricFamily) []receiverStatus {
	byProto := map[string]*receiverStatus{}
	for _, mf := range families {
		var field func(*receiverStatus) *float64
		switch mf.GetName() {
		case "sluice_ingest_records_total":
			field = func(r *receiverStatus) *float64 { return &r.Records }
		case "sluice_ingest_rejected_records_total":
			field = func(r *receiverStatus) *float64 { return &r.Rejected }
		case "sluice_ingest_bytes_total":
			field = func(r *receiverStatus) *float64 { return &r.Bytes }
		default:
			continue
		}
		for _, m := range mf.GetMetric() {
			proto := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "protocol" {
					proto = l.GetValue()
				}
			}
			if proto == "" || m.GetCounter() == nil {
				continue
			}
			rs := byProto[proto]
			if rs == nil {
				rs = &receiverStatus{Protocol: proto}
				byProto[proto] = rs
			}
			*field(rs) += m.GetCounter().GetValue()
		}
	}
	out := make([]receiverStatus, 0, len(byProto))
	for _, rs := range byProto {
		out = append(out, *rs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Protocol < out[j].Protocol })
	return out
}

// inFlightOf reads the bound on ingest bytes in flight (internal/ingest's
// InFlight) from the registry's metrics; zero when no receiver runs.
func inFlightOf(families []*dto.MetricFamily) inFlightStatus {
	var st inFlightStatus
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "sluice_ingest_in_flight_bytes":
				st.Bytes += m.GetGauge().GetValue()
			case "sluice_ingest_max_in_flight_bytes":
				st.MaxBytes += m.GetGauge().GetValue()
			case "sluice_ingest_in_flight_rejected_total":
				st.Rejected += m.GetCounter().GetValue()
			}
		}
	}
	return st
}
