package trust

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKeygenAndLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signing.key")
	pub, err := GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKey(path); err == nil {
		t.Fatal("GenerateKey overwrote an existing key")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
	}
	key, err := LoadSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadPublicKey(path + ".pub")
	if err != nil || !got.Equal(pub) || !key.Public().(ed25519.PublicKey).Equal(pub) {
		t.Fatalf("public key does not match the private one (%v)", err)
	}
	pem, _ := os.ReadFile(path)
	t.Setenv(KeyEnv, string(pem))
	if k, err := LoadSigningKey(""); err != nil || !k.Equal(key) {
		t.Fatalf("key from %s: %v", KeyEnv, err)
	}
	t.Setenv(KeyEnv, "")
	if k, err := LoadSigningKey(""); k != nil || err != nil {
		t.Fatalf("no key set: %v %v, want nil nil", k, err)
	}
	if _, err := LoadSigningKey(path + ".pub"); err == nil {
		t.Fatal("a public key loaded as a signing key")
	}
}

func TestCheckOutside(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"", true},
		{filepath.Join(data, "k"), false},
		{filepath.Join(data, "store", "k"), false},
		{data, false},
		{data + "-other/k", true},
		{filepath.Join(t.TempDir(), "k"), true},
	} {
		if err := CheckOutside(tc.key, data); (err == nil) != tc.ok {
			t.Errorf("CheckOutside(%q): %v, want ok=%v", tc.key, err, tc.ok)
		}
	}
}

func TestHeadSignature(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	h := Head{Seq: 7, Hash: strings.Repeat("ab", 32), WALSeq: 99, Time: time.Unix(1, 0).UTC()}
	h.Sign(key)
	if err := h.Verify(pub); err != nil {
		t.Fatal(err)
	}
	for _, tamper := range []func(*Head){
		func(h *Head) { h.Seq++ },
		func(h *Head) { h.WALSeq-- },
		func(h *Head) { h.Hash = strings.Repeat("cd", 32) },
		func(h *Head) { h.Sig = "" },
	} {
		c := h
		tamper(&c)
		if err := c.Verify(pub); !errors.Is(err, ErrHeadSignature) {
			t.Errorf("tampered head %+v verified: %v", c, err)
		}
	}
	if got := h.HashNumber(); got != float64(0xababababab_ab) {
		t.Errorf("HashNumber %v, want the first 6 bytes", got)
	}
}

// TestWitnesses puts heads into every kind of witness, each against a
// real or third-party peer where one runs here: a file, another Sluice's
// endpoint (Server over httptest), an S3 server (gofakes3, an S3-compatible
// server) through minio-go, and Kafka (kfake) through franz-go.
func TestWitnesses(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "heads"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	s3 := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server())
	defer s3.Close()
	t.Setenv("AWS_ENDPOINT_URL", s3.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testsecret")
	t.Setenv("AWS_REGION", "us-east-1")
	sluice := httptest.NewServer(routesMux(NewServer(t.TempDir())))
	defer sluice.Close()

	for _, u := range []string{
		"file://" + filepath.Join(t.TempDir(), "head.json"),
		sluice.URL + WitnessPathPrefix + "node-a",
		"s3://witness/node-a",
		"kafka://heads/node-a",
	} {
		t.Run(strings.SplitN(u, ":", 2)[0], func(t *testing.T) {
			w, err := Open(u, Env{KafkaOpts: []kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...)}})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, ok, err := w.Get(ctx); ok || err != nil {
				t.Fatalf("Get of an empty witness: ok=%v %v", ok, err)
			}
			for seq := uint64(1); seq <= 3; seq++ {
				h := Head{Seq: seq, Hash: strings.Repeat("0", 63) + string(rune('0'+seq)), WALSeq: seq * 10, Time: time.Unix(int64(seq), 0).UTC()}
				if err := w.Put(ctx, h); err != nil {
					t.Fatalf("Put %d: %v", seq, err)
				}
				got, ok, err := w.Get(ctx)
				if err != nil || !ok || got != h {
					t.Fatalf("Get after Put %d: %+v ok=%v %v", seq, got, ok, err)
				}
			}
		})
	}
}

func routesMux(s *Server) http.Handler {
	mux := http.NewServeMux()
	for p, h := range s.Routes() {
		mux.Handle(p, h)
	}
	return mux
}

// TestServerRefusesRollback: the endpoint another Sluice pushes to only
// moves forward, so a node rolled back cannot overwrite its published head.
func TestServerRefusesRollback(t *testing.T) {
	srv := httptest.NewServer(routesMux(NewServer(t.TempDir())))
	defer srv.Close()
	w, err := Open(srv.URL+WitnessPathPrefix+"n1", Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h := Head{Seq: 5, Hash: strings.Repeat("a", 64), WALSeq: 50}
	if err := w.Put(ctx, h); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		h    Head
		ok   bool
	}{
		{"same head", h, true},
		{"newer", Head{Seq: 6, Hash: strings.Repeat("b", 64), WALSeq: 60}, true},
		{"older entry", Head{Seq: 4, Hash: strings.Repeat("c", 64), WALSeq: 70}, false},
		{"same entry, other hash", Head{Seq: 6, Hash: strings.Repeat("d", 64), WALSeq: 60}, false},
		{"older WAL seq", Head{Seq: 6, Hash: strings.Repeat("b", 64), WALSeq: 10}, false},
	} {
		err := w.Put(ctx, tc.h)
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "409")) {
			t.Errorf("%s: %v, want ok=%v (409 otherwise)", tc.name, err, tc.ok)
		}
	}
	for _, bad := range []string{"../x", ".hidden", strings.Repeat("n", 200)} {
		resp, err := http.Get(srv.URL + WitnessPathPrefix + bad)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 400 && resp.StatusCode != 404 {
				t.Errorf("node name %q: %d, want 400", bad, resp.StatusCode)
			}
		}
	}
}
