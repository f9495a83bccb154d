package faultpoint

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestParseEnv(t *testing.T) {
	for _, tc := range []struct {
		in      string
		name    string
		at      int64
		wantErr bool
	}{
		{"", "", 0, false},
		{"wal.synced", "wal.synced", 1, false},
		{"wal.synced:3", "wal.synced", 3, false},
		{"wal.synced:0", "", 0, true},
		{"wal.synced:x", "", 0, true},
		{":2", "", 0, true},
	} {
		name, at, err := parseEnv(tc.in)
		if (err != nil) != tc.wantErr || name != tc.name || at != tc.at {
			t.Errorf("parseEnv(%q) = %q, %d, %v; want %q, %d, error %v", tc.in, name, at, err, tc.name, tc.at, tc.wantErr)
		}
	}
}

func TestInertWithoutEnv(t *testing.T) {
	t.Setenv(EnvVar, "")
	p := New("test.inert")
	for range 3 {
		p.Hit() // returns: nothing armed
	}
	if p.hits.Load() != 0 {
		t.Errorf("an unarmed point counted %d hits", p.hits.Load())
	}
	if err := Check(); err != nil {
		t.Errorf("Check without %s: %v", EnvVar, err)
	}
}

func TestCheckUnknownPoint(t *testing.T) {
	New("test.known")
	t.Setenv(EnvVar, "test.misspelt")
	if err := Check(); err == nil || !strings.Contains(err.Error(), "test.known") {
		t.Errorf("Check of an unknown point: %v, want an error listing the known ones", err)
	}
	t.Setenv(EnvVar, "test.known:2")
	if err := Check(); err != nil {
		t.Errorf("Check of a known point: %v", err)
	}
}

// TestKillsAtNthHit runs this test binary again with SLUICE_FAULT set: the
// child hits the point three times and must die by SIGKILL at the second,
// having printed what it reached, never the line after the second hit.
func TestKillsAtNthHit(t *testing.T) {
	if os.Getenv("FAULTPOINT_CHILD") == "1" {
		p := New("test.crash")
		p.Hit()
		os.Stdout.WriteString("after hit 1\n")
		p.Hit()
		os.Stdout.WriteString("after hit 2\n")
		p.Hit()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillsAtNthHit$")
	cmd.Env = append(os.Environ(), "FAULTPOINT_CHILD=1", EnvVar+"=test.crash:2")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child did not fail: %v\n%s", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL\n%s", ee, out)
	}
	s := string(out)
	if !strings.Contains(s, "after hit 1") || strings.Contains(s, "after hit 2") ||
		!strings.Contains(s, "fault point test.crash reached (hit 2") {
		t.Errorf("child output:\n%s", s)
	}
}
