package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestE2EHealthcheck runs the container image's probe command against the
// real server: 0 while it serves, 1 with a one-line reason once it is gone.
func TestE2EHealthcheck(t *testing.T) {
	needBinary(t)
	t.Parallel()
	s := startServer(t, t.TempDir(), "")
	addr := strings.TrimPrefix(s.url, "http://")
	probe := func(args ...string) (int, string, string) {
		cmd := exec.Command(binPath, append([]string{"healthcheck", "--addr", addr}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
	if code, out, errOut := probe(); code != 0 || !strings.Contains(out, "/readyz: 200 ready") {
		t.Errorf("ready server: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, errOut := probe("--endpoint", "healthz"); code != 0 || !strings.Contains(out, "/healthz: 200 ok") {
		t.Errorf("live server: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	s.stop()
	code, out, errOut := probe()
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "connection refused") {
		t.Errorf("stopped server: exit %d, stdout %q, stderr %q; want 1 and one line saying the connection was refused", code, out, errOut)
	}
}
