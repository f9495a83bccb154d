package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// A line is what a format makes of one or more raw lines of a file: a
// whole line of the application's output.
type line struct {
	text   []byte
	time   int64 // Unix nanoseconds; 0: when it was read
	source string
}

// A decoder turns raw lines (without their newline) into lines. It keeps
// the parts of a line the runtime split (Docker and CRI write a long line
// as several partial ones) until the last part arrives. One decoder
// serves one file and is not safe for concurrent use.
type decoder interface {
	// decode returns the line raw completes, or ok=false while parts are
	// pending. err reports a raw line the format cannot read; it is then
	// passed on as text.
	decode(raw []byte) (l line, ok bool, err error)
	// pending reports whether parts of a line wait for their end.
	pending() bool
	// flush returns the pending parts as a line (the file ended or was
	// truncated before the last part came).
	flush() (line, bool)
}

// formats are the input types: how a file's raw lines become lines and
// which labels a file's path gives.
var formats = map[string]struct {
	newDecoder func() decoder
	labels     func(path string) []record.Field
}{
	"file":   {newDecoder: func() decoder { return plainDecoder{} }, labels: func(string) []record.Field { return nil }},
	"docker": {newDecoder: func() decoder { return &dockerDecoder{} }, labels: dockerLabels},
	"cri":    {newDecoder: func() decoder { return &criDecoder{} }, labels: kubernetesLabels},
}

type plainDecoder struct{}

func (plainDecoder) decode(raw []byte) (line, bool, error) { return line{text: raw}, true, nil }
func (plainDecoder) pending() bool                         { return false }
func (plainDecoder) flush() (line, bool)                   { return line{}, false }

// partials joins the parts of a split line.
type partials struct {
	buf    []byte
	time   int64
	source string
	open   bool
}

func (p *partials) add(text []byte, ts int64, source string, last bool) (line, bool) {
	if !p.open {
		p.buf, p.time, p.source, p.open = p.buf[:0], ts, source, true
	}
	p.buf = append(p.buf, text...)
	if !last {
		return line{}, false
	}
	return p.flush()
}

func (p *partials) pending() bool { return p.open }

func (p *partials) flush() (line, bool) {
	if !p.open {
		return line{}, false
	}
	p.open = false
	return line{text: p.buf, time: p.time, source: p.source}, true
}

// dockerDecoder reads Docker's json-file driver: one JSON object per
// line, {"log":"text\n","stream":"stdout","time":"RFC 3339"}; a log
// without its final newline is a part of a longer line (Docker splits at
// 16 KiB).
type dockerDecoder struct {
	p   partials
	doc struct {
		Log    string `json:"log"`
		Stream string `json:"stream"`
		Time   string `json:"time"`
	}
}

var errNotDocker = errors.New(`not a Docker json-file line ({"log":…,"stream":…,"time":…})`)

func (d *dockerDecoder) decode(raw []byte) (line, bool, error) {
	d.doc.Log, d.doc.Stream, d.doc.Time = "", "", ""
	if err := json.Unmarshal(raw, &d.doc); err != nil || (d.doc.Time == "" && d.doc.Stream == "") {
		return line{text: raw}, true, errNotDocker
	}
	var ts int64
	if t, err := time.Parse(time.RFC3339Nano, d.doc.Time); err == nil {
		ts = t.UnixNano()
	}
	text, last := bytes.CutSuffix([]byte(d.doc.Log), []byte("\n"))
	l, ok := d.p.add(text, ts, d.doc.Stream, last)
	return l, ok, nil
}

func (d *dockerDecoder) pending() bool       { return d.p.pending() }
func (d *dockerDecoder) flush() (line, bool) { return d.p.flush() }

// criDecoder reads the CRI log format of containerd and CRI-O:
// "RFC3339Nano stdout|stderr P|F text", P marking a part of a longer line.
type criDecoder struct{ p partials }

var errNotCRI = errors.New("not a CRI log line (TIME STREAM P|F TEXT)")

func (d *criDecoder) decode(raw []byte) (line, bool, error) {
	ts, rest, ok1 := bytes.Cut(raw, []byte{' '})
	stream, rest, ok2 := bytes.Cut(rest, []byte{' '})
	tag, text, ok3 := bytes.Cut(rest, []byte{' '})
	if !ok3 && ok2 && len(rest) == 1 { // an empty line: "… stdout F"
		tag, text, ok3 = rest, nil, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if !ok1 || !ok2 || !ok3 || err != nil || len(tag) == 0 {
		return line{text: raw}, true, errNotCRI
	}
	// Tags may carry more flags after a colon; P is the only one known.
	last := tag[0] != 'P'
	l, ok := d.p.add(text, t.UnixNano(), string(stream), last)
	return l, ok, nil
}

func (d *criDecoder) pending() bool       { return d.p.pending() }
func (d *criDecoder) flush() (line, bool) { return d.p.flush() }
