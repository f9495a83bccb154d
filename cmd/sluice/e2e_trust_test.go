package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// TestE2ETrustAttacks runs the real server with a signing key made by
// `sluice trust keygen` and a file witness on another directory, then
// mounts the attacks of issue 20 on copies of its data directory, each of
// which passed `sluice verify` before signatures and the witness: a record
// appended to the WAL while the server was stopped, the newest manifest
// entry cut with its part, two parts' bytes swapped with the manifest
// re-chained to match, and the whole directory rolled back to an older
// copy. `sluice verify --config` must exit non-zero naming each, and a
// server started on the forged WAL must not store the forged record.
func TestE2ETrustAttacks(t *testing.T) {
	needBinary(t)
	t.Parallel()
	keyDir, witnessDir, dataDir := t.TempDir(), t.TempDir(), t.TempDir()
	keyPath := filepath.Join(keyDir, "signing.key")
	if out, err := exec.Command(binPath, "trust", "keygen", "--out", keyPath).CombinedOutput(); err != nil {
		t.Fatalf("trust keygen: %v\n%s", err, out)
	}
	trustYAML := fmt.Sprintf("trust:\n  signing_key_file: %s\n  witness: file://%s\n  witness_interval: 100ms\n",
		keyPath, filepath.Join(witnessDir, "head.json"))
	serverYAML := "store:\n  flush_interval: 1h\n  merge_interval: 1h\n" + trustYAML
	s := startServer(t, dataDir, serverYAML)
	old := t.TempDir()
	base := time.Now().Add(-time.Hour).UTC()
	for batch := range 3 {
		var body bytes.Buffer
		for i := range 20 {
			ts := base.Add(time.Duration(batch*20+i) * time.Second).Format(time.RFC3339Nano)
			fmt.Fprintf(&body, `{"_time":%q,"_msg":"trust batch %d line %d","service":"trust"}`+"\n", ts, batch, i)
		}
		if code, resp, _ := s.post("/insert/jsonline", "application/x-ndjson", body.Bytes()); code/100 != 2 {
			t.Fatalf("insert batch %d: %d %s", batch, code, resp)
		}
		if code, resp, _ := s.post("/internal/force_flush", "", nil); code/100 != 2 {
			t.Fatalf("force flush %d: %d %s", batch, code, resp)
		}
		if batch == 1 {
			copyDataDir(t, dataDir, old) // the copy an attacker restores later
		}
	}
	resp, err := http.Get(s.url + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	status := string(sb)
	if !strings.Contains(status, `"signed":true`) || !regexp.MustCompile(`"manifest_head_seq":\d+`).MatchString(status) {
		t.Errorf("status does not publish a signed chain head:\n%s", status)
	}
	if v := metric(t, s, "sluice_manifest_head_seq"); v < 3 {
		t.Errorf("sluice_manifest_head_seq %v, want at least 3", v)
	}
	s.stop()

	cfgPath := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(trustYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(dir string) (string, error) {
		out, err := exec.Command(binPath, "verify", "--config", cfgPath, "--data-dir", dir).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(dataDir); err != nil || !strings.Contains(out, "intact") || !strings.Contains(out, "witness file://") {
		t.Fatalf("verify of the untouched data dir: %v\n%s", err, out)
	}
	parts := tamperPartFiles(t, dataDir)
	manifest := filepath.Join("store", "manifest.log")

	for _, tc := range []struct {
		name   string
		dir    func(t *testing.T) string // the attacked data directory
		report string                    // a line verify must print
	}{
		{"forged WAL record", func(t *testing.T) string {
			dir := t.TempDir()
			copyDataDir(t, dataDir, dir)
			forgeWALRecord(t, dir, "forged by hand")
			return dir
		}, `(?m)^wal: segment \d+\.wal at byte offset \d+: 1 records from seq \d+ have no signed batch commit`},
		{"newest entry cut with its part", func(t *testing.T) string {
			dir := t.TempDir()
			copyDataDir(t, dataDir, dir)
			p := filepath.Join(dir, manifest)
			lines := tamperManifestLines(t, p)
			tamperWrite(t, p, []byte(strings.Join(lines[:len(lines)-1], "")))
			if err := os.Remove(filepath.Join(dir, parts[len(parts)-1])); err != nil {
				t.Fatal(err)
			}
			return dir
		}, `(?m)^witness: entry \d+ \(recorded as [0-9a-f]+ by the witness\) is not in the manifest, which ends at entry \d+`},
		{"two parts swapped, manifest re-chained", func(t *testing.T) string {
			dir := t.TempDir()
			copyDataDir(t, dataDir, dir)
			a, b := filepath.Join(dir, parts[0]), filepath.Join(dir, parts[1])
			ba, bb := tamperRead(t, a), tamperRead(t, b)
			tamperWrite(t, a, bb)
			tamperWrite(t, b, ba)
			rechainManifest(t, filepath.Join(dir, manifest), map[string][]byte{tamperPartID(parts[0]): bb, tamperPartID(parts[1]): ba})
			return dir
		}, `(?m)^signature: `},
		{"middle entry deleted, manifest re-chained", func(t *testing.T) string {
			dir := t.TempDir()
			copyDataDir(t, dataDir, dir)
			p := filepath.Join(dir, manifest)
			lines := tamperManifestLines(t, p)
			tamperWrite(t, p, []byte(strings.Join(append(lines[:1:1], lines[2:]...), "")))
			rechainManifest(t, p, nil)
			return dir
		}, `(?m)^signature: `},
		{"rolled back to an older copy", func(t *testing.T) string { return old }, `(?m)^witness: entry \d+ .* is not in the manifest, which ends at entry \d+: the data directory was rolled back`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := verify(tc.dir(t))
			if err == nil {
				t.Fatalf("verify passed an attacked data dir:\n%s", out)
			}
			if !regexp.MustCompile(tc.report).MatchString(out) {
				t.Errorf("verify output lacks %q:\n%s", tc.report, out)
			}
		})
	}

	// The server drops the forged record rather than sealing it into a part.
	dir := t.TempDir()
	copyDataDir(t, dataDir, dir)
	forgeWALRecord(t, dir, "forged by hand")
	s = startServer(t, dir, serverYAML)
	if n := s.count(`"forged by hand"`); n != 0 {
		t.Errorf("the forged WAL record was stored (%d)", n)
	}
	if n := s.count(`service:trust`); n != 60 {
		t.Errorf("%d records after the forged start, want 60", n)
	}
	if !strings.Contains(s.logs.String(), "without a signed commit") {
		t.Errorf("no error logged for the forged record")
	}
	s.stop()
}

// forgeWALRecord appends one well-formed record entry (length, CRC-32C,
// seq, record) to the newest WAL segment of dataDir, with the next seq, as
// someone with disk access but without the signing key can.
func forgeWALRecord(t *testing.T, dataDir, msg string) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dataDir, "wal", "*.wal"))
	if len(segs) == 0 {
		t.Fatal("no WAL segment")
	}
	last := segs[len(segs)-1]
	var seq uint64
	if _, err := fmt.Sscanf(filepath.Base(last), "%020d.wal", &seq); err != nil {
		t.Fatal(err)
	}
	payload := binary.AppendUvarint(nil, seq)
	payload = record.AppendBinary(payload, &record.Record{Time: time.Now().UnixNano(), Message: msg, Fields: []record.Field{{Name: "service", Value: "trust"}}})
	entry := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	entry = binary.LittleEndian.AppendUint32(entry, crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(entry, payload...)); err != nil {
		t.Fatal(err)
	}
}

// e2ePartRef and e2eManifestEntry mirror the manifest's JSON (store's
// partRef and manifestEntry, field for field) so that the test can
// re-chain a manifest as an attacker would.
type e2ePartRef struct {
	Partition string `json:"partition"`
	Name      string `json:"name"`
	Records   int64  `json:"records"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	MinTime   int64  `json:"min_time,omitempty"`
	MaxTime   int64  `json:"max_time,omitempty"`
}

type e2eManifestEntry struct {
	Seq       uint64       `json:"seq"`
	Time      string       `json:"time"`
	Op        string       `json:"op"`
	Added     []e2ePartRef `json:"added,omitempty"`
	Removed   []e2ePartRef `json:"removed,omitempty"`
	Live      []e2ePartRef `json:"live,omitempty"`
	MaxName   string       `json:"max_name,omitempty"`
	Reason    string       `json:"reason"`
	Watermark uint64       `json:"watermark"`
	Prev      string       `json:"prev"`
	Hash      string       `json:"hash,omitempty"`
	Sig       string       `json:"sig,omitempty"`
}

// rechainManifest rewrites the manifest with the sizes and sha256 of the
// given part contents and every hash recomputed, so that the chain is
// intact; it cannot sign, so the signatures are dropped.
func rechainManifest(t *testing.T, path string, contents map[string][]byte) {
	t.Helper()
	var out bytes.Buffer
	prev := ""
	for _, line := range tamperManifestLines(t, path) {
		var e e2eManifestEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		for i, r := range e.Added {
			if b, ok := contents[r.Partition+"/"+r.Name]; ok {
				sum := sha256.Sum256(b)
				e.Added[i].SHA256, e.Added[i].Size = hex.EncodeToString(sum[:]), int64(len(b))
			}
		}
		e.Prev, e.Hash, e.Sig = prev, "", ""
		body, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := hex.DecodeString(prev)
		h := sha256.Sum256(append(pb, body...))
		e.Hash = hex.EncodeToString(h[:])
		prev = e.Hash
		b, _ := json.Marshal(&e)
		out.Write(append(b, '\n'))
	}
	tamperWrite(t, path, out.Bytes())
}
