package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// dockerLine is a line as Docker's json-file driver writes it.
func dockerLine(log, stream string, ts time.Time) string {
	b, _ := json.Marshal(map[string]string{"log": log, "stream": stream, "time": ts.UTC().Format(time.RFC3339Nano)})
	return string(b)
}

// criLine is a line as containerd and CRI-O write it.
func criLine(text, stream, tag string, ts time.Time) string {
	return ts.UTC().Format(time.RFC3339Nano) + " " + stream + " " + tag + " " + text
}

func TestDecoders(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	tests := []struct {
		name string
		dec  decoder
		raw  []string
		want []line
		errs int
	}{
		{"docker whole lines", &dockerDecoder{}, []string{dockerLine("hello\n", "stdout", t0), dockerLine("oops\n", "stderr", t0)},
			[]line{{text: []byte("hello"), time: t0.UnixNano(), source: "stdout"}, {text: []byte("oops"), time: t0.UnixNano(), source: "stderr"}}, 0},
		{"docker partial lines joined, time of the first part", &dockerDecoder{},
			[]string{dockerLine("a long ", "stdout", t0), dockerLine("line", "stdout", t0.Add(time.Second)), dockerLine("\n", "stdout", t0.Add(time.Second))},
			[]line{{text: []byte("a long line"), time: t0.UnixNano(), source: "stdout"}}, 0},
		{"docker: not JSON passes as text", &dockerDecoder{}, []string{"plain"}, []line{{text: []byte("plain")}}, 1},
		{"cri full and partial", &criDecoder{},
			[]string{criLine("one", "stdout", "F", t0), criLine("two ", "stderr", "P", t0), criLine("parts", "stderr", "F", t0), t0.Format(time.RFC3339Nano) + " stdout F"},
			[]line{{text: []byte("one"), time: t0.UnixNano(), source: "stdout"}, {text: []byte("two parts"), time: t0.UnixNano(), source: "stderr"}, {text: nil, time: t0.UnixNano(), source: "stdout"}}, 0},
		{"cri: a bad time passes as text", &criDecoder{}, []string{"yesterday stdout F x"}, []line{{text: []byte("yesterday stdout F x")}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []line
			errs := 0
			for _, raw := range tc.raw {
				l, ok, err := tc.dec.decode([]byte(raw))
				if err != nil {
					errs++
				}
				if ok {
					l.text = slices.Clone(l.text)
					got = append(got, l)
				}
			}
			if errs != tc.errs || len(got) != len(tc.want) {
				t.Fatalf("got %d lines, %d errors; want %d, %d: %+v", len(got), errs, len(tc.want), tc.errs, got)
			}
			for i := range got {
				if string(got[i].text) != string(tc.want[i].text) || got[i].time != tc.want[i].time || got[i].source != tc.want[i].source {
					t.Errorf("line %d = {%q %d %s}, want {%q %d %s}", i, got[i].text, got[i].time, got[i].source, tc.want[i].text, tc.want[i].time, tc.want[i].source)
				}
			}
		})
	}
}

func TestContainerLabels(t *testing.T) {
	id := strings.Repeat("ab", 32)
	dir := t.TempDir()
	dockerLog := filepath.Join(dir, "containers", id, id+"-json.log")
	if err := os.MkdirAll(filepath.Dir(dockerLog), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(dockerLog), "config.v2.json"),
		[]byte(`{"Name":"/web","Config":{"Image":"nginx:1.27","Labels":{"com.docker.compose.service":"front","other":"x"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, kind, path, want string
	}{
		{"kubelet pods path", "cri", "/var/log/pods/shop_cart-7d9f_0f1e2d3c-aaaa-bbbb/cart/0.log",
			`{container="cart",namespace="shop",pod="cart-7d9f",pod_uid="0f1e2d3c-aaaa-bbbb"}`},
		{"kubelet containers symlink", "cri", "/var/log/containers/cart-7d9f_shop_cart-" + id + ".log",
			`{container="cart",container_id="` + id + `",namespace="shop",pod="cart-7d9f"}`},
		{"docker with config.v2.json", "docker", dockerLog,
			`{com.docker.compose.service="front",container_id="` + id + `",container_name="web",image="nginx:1.27"}`},
		{"docker without config", "docker", "/var/lib/docker/containers/" + id + "/" + id + "-json.log", `{container_id="` + id + `"}`},
		{"a plain path", "cri", "/var/log/app.log", `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := record.Record{Stream: formats[tc.kind].labels(tc.path)}
			if got := r.StreamString(); got != tc.want {
				t.Errorf("labels %s, want %s", got, tc.want)
			}
		})
	}
}

// Docker and CRI files through the agent: partial lines joined, then
// multiline, with the container's labels.
func TestContainerInputs(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, kind := range []string{"docker", "cri"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "pods", "shop_cart-1_uid1", "cart", "0.log")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			parts := [][3]string{ // text, partial?, stream
				{"2026-01-02 ERROR failed", "", "stderr"},
				{"java.lang.RuntimeException: ", "P", "stderr"},
				{strings.Repeat("y", 40), "", "stderr"},
				{"\tat a.B(B.java:1)", "", "stderr"},
				{"2026-01-02 INFO ok", "", "stdout"},
			}
			var lines []string
			for _, p := range parts {
				if kind == "docker" {
					text := p[0]
					if p[1] == "" {
						text += "\n"
					}
					lines = append(lines, dockerLine(text, p[2], t0))
				} else {
					tag := "F"
					if p[1] == "P" {
						tag = "P"
					}
					lines = append(lines, criLine(p[0], p[2], tag, t0))
				}
			}
			appendFile(t, path, lines...)
			r := newRig(t, dir, InputConfig{Type: kind, Paths: []string{filepath.Join(dir, "pods", "*", "*", "*.log")}, StartAt: "beginning",
				MaxLineBytes: 1 << 10, Multiline: MultilineConfig{Start: `^\d{4}-`, FlushTimeout: DefaultInput().Multiline.FlushTimeout}})
			r.step(0)
			r.step(5 * time.Second)
			want := []string{"2026-01-02 ERROR failed\njava.lang.RuntimeException: " + strings.Repeat("y", 40) + "\n\tat a.B(B.java:1)", "2026-01-02 INFO ok"}
			if got := r.out.messages(); !slices.Equal(got, want) {
				t.Fatalf("records %q\nwant %q", got, want)
			}
			rec := r.out.recs[0]
			if rec.StreamString() != `{container="cart",namespace="shop",pod="cart-1",pod_uid="uid1"}` || rec.Time != t0.UnixNano() {
				t.Errorf("record %s at %d", rec.StreamString(), rec.Time)
			}
			if src, _ := rec.Get("source"); src != "stderr" {
				t.Errorf("source %q", src)
			}
		})
	}
}

func FuzzDockerDecoder(f *testing.F) {
	f.Add([]byte(dockerLine("x\n", "stdout", time.Unix(0, 0))))
	f.Add([]byte(`{"log":"part","stream":"stderr","time":"bad"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d := &dockerDecoder{}
		for range 2 {
			if l, ok, err := d.decode(raw); ok && err != nil && string(l.text) != string(raw) {
				t.Fatalf("an unreadable line must pass as it is: %q", l.text)
			}
		}
		d.flush()
	})
}

func FuzzCRIDecoder(f *testing.F) {
	f.Add([]byte(criLine("x", "stdout", "F", time.Unix(0, 0))))
	f.Add([]byte("2026-01-01T00:00:00Z stdout P"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d := &criDecoder{}
		for range 2 {
			if l, ok, err := d.decode(raw); ok && err != nil && string(l.text) != string(raw) {
				t.Fatalf("an unreadable line must pass as it is: %q", l.text)
			}
		}
		d.flush()
	})
}
