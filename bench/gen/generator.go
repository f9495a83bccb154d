package gen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// Window is the span of event time the bench queries cover (From to To),
// and the span the generated records cover unless Config.Days says more; it
// ends at Config.End.
const Window = 24 * time.Hour

// RecentWindow is the span of the recent queries (Generator.RecentQueries):
// the last hour of the data, which a live node's users ask about most.
const RecentWindow = time.Hour

// jitter is how far a record's time may stray from its even share of the
// window, so that times are roughly, not strictly, increasing.
const jitter = 2 * time.Second

// Config says what to generate. The same Config always yields the same bytes.
type Config struct {
	// Seed selects the data set.
	Seed uint64
	// Records is how many records to generate.
	Records int
	// End is the end of the window (exclusive); records fall in
	// [End-Days*Window, End).
	End time.Time
	// Days is how many windows of 24 h the records are spread over, evenly
	// and in time order, for a long run; 0 means 1. The ground truth (and
	// so the bench queries) covers only the last 24 h and the last hour, as
	// a live node's users ask, so it stays the same size at any Days.
	Days int
}

// Record kinds, chosen per record with kindWeights.
const (
	kindApp = iota
	kindNginx
	kindJava
	kindSyslog
)

var kindWeights = []float64{75, 12, 3, 10}

// Generator produces the records of one Config, in order, and keeps the
// ground truth of the bench queries over the records produced so far. It is
// not safe for concurrent use.
type Generator struct {
	cfg   Config
	rng   *rand.Rand
	start int64   // start of the records' time (Days windows before End), Unix ns
	step  float64 // ns of that span per record
	next  int     // index of the next record

	kinds, appSvc, javaSvc, methods, appLevel *picker

	hosts      [][]string // per global service index
	javaFrames [][]string // per Java service
	rareAt     [3]int     // record indexes that carry rareID
	rareID     [32]byte

	msg []byte // scratch: the message being built
	aux []byte // scratch: a part of the message built out of order
	// truth is the ground truth over the last Window, [dayFrom, End).
	truth   truth
	dayFrom int64
	// recent is the ground truth over [recentFrom, End).
	recent     truth
	recentFrom int64
}

// New returns a Generator for cfg.
func New(cfg Config) (*Generator, error) {
	if cfg.Records <= 0 {
		return nil, fmt.Errorf("generator config: records must be positive, got %d", cfg.Records)
	}
	if cfg.End.IsZero() {
		return nil, errors.New("generator config: end time is not set")
	}
	if cfg.Days < 0 || cfg.Days > maxDays {
		return nil, fmt.Errorf("generator config: days must be in [0, %d], got %d", maxDays, cfg.Days)
	}
	cfg.Days = max(cfg.Days, 1)
	span := time.Duration(cfg.Days) * Window
	g := &Generator{
		cfg:      cfg,
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		start:    cfg.End.Add(-span).UnixNano(),
		dayFrom:  cfg.End.Add(-Window).UnixNano(),
		step:     float64(span) / float64(cfg.Records),
		kinds:    newPicker(kindWeights),
		appSvc:   newPicker(zipfWeights(len(appServices), 1.1)),
		javaSvc:  newPicker([]float64{50, 30, 20}),
		methods:  newPicker(httpMethodWeights),
		appLevel: newPicker([]float64{levelInfo: 70, levelDebug: 15, levelWarn: 10, levelError: 5}),
	}
	g.hosts = make([][]string, numServices)
	for s := range g.hosts {
		g.hosts[s] = g.makeHosts(s)
	}
	for _, svc := range javaServices {
		pkg := strings.ReplaceAll(svc, "-", "")
		frames := make([]string, len(javaFrames))
		for j, f := range javaFrames {
			frames[j] = strings.ReplaceAll(f, "%s", pkg)
		}
		g.javaFrames = append(g.javaFrames, frames)
	}
	// The rare records fall in the last day, which the queries cover; its
	// first record is the first of the day (all of them with one day).
	first := cfg.Records - cfg.Records/cfg.Days
	perDay := cfg.Records - first
	for k := range g.rareAt {
		g.rareAt[k] = first + perDay*(k+1)/4
	}
	appendHex(g.rareID[:0], g.rng.Uint64(), g.rng.Uint64())
	g.truth.init(g.dayFrom, cfg.End.UnixNano(), perDay)
	g.recentFrom = cfg.End.Add(-RecentWindow).UnixNano()
	g.recent.init(g.recentFrom, cfg.End.UnixNano(), max(1, perDay/int(Window/RecentWindow)))
	return g, nil
}

// makeHosts names the machines or pods a service runs on.
func (g *Generator) makeHosts(svc int) []string {
	name := serviceName(svc)
	switch {
	case svc == nginxIndex:
		return []string{"edge-01", "edge-02", "edge-03", "edge-04"}
	case svc >= syslogIndex:
		hosts := make([]string, 24)
		for i := range hosts {
			hosts[i] = fmt.Sprintf("node-%02d", i+1)
		}
		return hosts
	}
	hosts := make([]string, 3)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s-%08x-%05x", name, g.rng.Uint32(), g.rng.Uint32()&0xfffff)
	}
	return hosts
}

// maxDays bounds Config.Days: a long run's span, not a history.
const maxDays = 3660

// From and To bound the bench queries' window, the last 24 h of the
// records: From <= t < To. With one day (Config.Days 0 or 1) every record
// is in it.
func (g *Generator) From() time.Time { return time.Unix(0, g.dayFrom).UTC() }

// DataFrom is the start of the records' time, Days windows before To.
func (g *Generator) DataFrom() time.Time { return time.Unix(0, g.start).UTC() }

// To is the end of the window, Config.End.
func (g *Generator) To() time.Time { return g.cfg.End.UTC() }

// Remaining is how many records are still to come.
func (g *Generator) Remaining() int { return g.cfg.Records - g.next }

// AppendBatch appends up to max records to dst as JSON lines, each ending in
// '\n', and returns dst and how many it appended (0 once all are generated).
func (g *Generator) AppendBatch(dst []byte, max int) ([]byte, int) {
	n := 0
	for n < max && g.next < g.cfg.Records {
		dst = g.appendRecord(dst)
		n++
	}
	return dst, n
}

// timeOf spreads record i evenly over the records' span, give or take
// jitter.
func (g *Generator) timeOf(i int) int64 {
	t := g.start + int64(float64(i)*g.step) + g.rng.Int64N(int64(2*jitter)) - int64(jitter)
	return min(max(t, g.start), g.cfg.End.UnixNano()-1)
}

func (g *Generator) isRare(i int) bool {
	return i == g.rareAt[0] || i == g.rareAt[1] || i == g.rareAt[2]
}

// appendRecord appends the next record and adds it to the ground truth.
func (g *Generator) appendRecord(dst []byte) []byte {
	i := g.next
	g.next++
	t := g.timeOf(i)
	kind := g.kinds.pick(g.rng)
	rare := g.isRare(i)
	if rare {
		kind = kindApp
	}
	g.msg = g.msg[:0]
	var m meta
	dst = append(dst, `{"_time":"`...)
	dst = time.Unix(0, t).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	switch kind {
	case kindApp:
		dst, m = g.appendApp(dst, rare)
	case kindNginx:
		dst, m = g.appendNginx(dst, t)
	case kindJava:
		dst, m = g.appendJava(dst)
	default:
		dst, m = g.appendSyslog(dst, t)
	}
	dst = append(dst, "}\n"...)
	m.time = t
	if t >= g.dayFrom {
		g.truth.add(&m)
	}
	if t >= g.recentFrom {
		g.recent.add(&m)
	}
	return dst
}

// meta is what the ground truth needs to know of one record besides its
// message.
type meta struct {
	time      int64
	service   int
	msg       string
	level     int
	latencyUs int64 // latency_ms in microseconds; -1 when absent
	status    int   // the status field; 0 when absent
	traced    bool  // whether the record has a trace_id (a fresh random one unless rare)
	rare      bool
}

// pickHost picks one of the service's machines.
func (g *Generator) pickHost(svc int) string {
	return g.pickString(g.hosts[svc])
}

// appendCommon appends the fields every record has after _time: _msg (from
// g.msg), service, host and level, and returns the message as a string for
// the ground truth.
func (g *Generator) appendCommon(dst []byte, svc int, host string, level int) ([]byte, string) {
	msg := string(g.msg)
	dst = append(dst, `,"_msg":`...)
	dst = record.AppendJSONString(dst, msg)
	dst = append(dst, `,"service":"`...)
	dst = append(dst, serviceName(svc)...)
	dst = append(dst, `","host":"`...)
	dst = append(dst, host...)
	dst = append(dst, `","level":"`...)
	dst = append(dst, levelNames[level]...)
	return append(dst, '"'), msg
}

func (g *Generator) pickString(list []string) string {
	return list[g.rng.IntN(len(list))]
}

func (g *Generator) pickInt(list []int) int {
	return list[g.rng.IntN(len(list))]
}
