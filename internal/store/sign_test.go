package store

import (
	"context"
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignedManifest: with a key every entry is signed and AuditSigned
// passes; an entry whose signature was dropped or made with another key,
// or a manifest with no signed entry, is reported, and Open refuses a bad
// signature.
func TestSignedManifest(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	dir := t.TempDir()
	s := openTest(t, dir, Options{SigningKey: key})
	for i := range 3 {
		s.Append(genRecords(rand.New(rand.NewPCG(1, uint64(i))), 20, i*20), uint64(i+1))
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	head := s.Head()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := AuditSigned(dir, pub)
	if err != nil || len(r.Problems) != 0 || r.SignedSince != 1 || r.Head != head {
		t.Fatalf("AuditSigned of a signed store: %+v %v", r, err)
	}
	if r, _ := AuditSigned(dir, otherPub); len(r.Problems) == 0 || r.Problems[0].Kind != ProblemSignature {
		t.Fatalf("another key's public half passed: %+v", r.Problems)
	}
	path := filepath.Join(dir, manifestName)
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	// Drop the last entry's signature: its chain hash still holds.
	lines[2] = strings.Replace(lines[2], `,"sig":"`, `,"sig_dropped":"`, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = AuditSigned(dir, pub)
	if err != nil || len(r.Problems) == 0 || r.Problems[0].Kind != ProblemSignature || !strings.Contains(r.Problems[0].Detail, "entry 3 is not signed") {
		t.Fatalf("unsigned entry 3: %+v %v", r.Problems, err)
	}
	if _, err := Open(dir, Options{SigningKey: key}, nil); !errors.Is(err, errUnsigned) {
		t.Fatalf("Open with a stripped signature: %v, want errUnsigned", err)
	}
	// Without a key the store opens as before.
	s2, err := Open(dir, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}
