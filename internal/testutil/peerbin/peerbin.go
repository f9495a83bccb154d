// Package peerbin builds the third-party servers the alert tests talk to,
// from the Go module proxy, outside Sluice's module (they are no
// dependency of it): Prometheus Alertmanager and mailpit. A binary is
// built once into a cache directory keyed by version and reused; CI builds
// both in the background while it lints (.ci/run, cmd buildpeers). Cold,
// they cost about 200 (Alertmanager) and 170 (mailpit) CPU-seconds.
package peerbin

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Versions built.
const (
	AlertmanagerModule  = "github.com/prometheus/alertmanager"
	AlertmanagerVersion = "v0.35.0"
	MailpitModule       = "github.com/axllent/mailpit"
	MailpitVersion      = "v1.33.1"
)

// Dir is where built binaries are kept: $SLUICE_PEER_BIN_DIR, else the
// user's cache directory.
func Dir() (string, error) {
	if d := os.Getenv("SLUICE_PEER_BIN_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "sluice-test-peers"), nil
}

// Alertmanager returns the path of an alertmanager binary, building it
// first if the cache has none.
func Alertmanager() (string, error) {
	return cached("alertmanager-"+AlertmanagerVersion, buildAlertmanager)
}

// Mailpit returns the path of a mailpit binary, building it first if the
// cache has none.
func Mailpit() (string, error) {
	return cached("mailpit-"+MailpitVersion, func(out string) error {
		tmp, err := os.MkdirTemp("", "mailpit-build")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cmd := goCmd(tmp, "install", MailpitModule+"@"+MailpitVersion)
		cmd.Env = append(cmd.Env, "GOBIN="+tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go install %s@%s: %w\n%s", MailpitModule, MailpitVersion, err, out)
		}
		return os.Rename(filepath.Join(tmp, "mailpit"), out)
	})
}

// cached returns dir/name, built by build under a file lock so that
// concurrent test binaries build it once.
func cached(name string, build func(out string) error) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	lock, err := os.OpenFile(out+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(out); err == nil {
		return out, nil // built while we waited
	}
	if err := build(out + ".tmp"); err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	return out, os.Rename(out+".tmp", out)
}

// goCmd runs the go command in dir, outside any module or workspace.
func goCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOFLAGS=") && !strings.HasPrefix(e, "GOWORK=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "GOWORK=off", "GOFLAGS=-mod=mod")
	return cmd
}

// buildAlertmanager builds cmd/alertmanager from the module's source. The
// module as the proxy serves it lacks the web UI's built assets, which
// ui/web.go embeds (app/dist): a placeholder page stands in, so the API
// works and the UI shows the placeholder.
func buildAlertmanager(out string) error {
	tmp, err := os.MkdirTemp("", "alertmanager-build")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b, err := goCmd(tmp, "mod", "download", "-json", AlertmanagerModule+"@"+AlertmanagerVersion).Output()
	if err != nil {
		return fmt.Errorf("go mod download %s@%s: %w", AlertmanagerModule, AlertmanagerVersion, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(b, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("go mod download %s: no directory in %s", AlertmanagerModule, b)
	}
	src := filepath.Join(tmp, "src")
	if out, err := exec.Command("cp", "-r", mod.Dir, src).CombinedOutput(); err != nil {
		return fmt.Errorf("copy the module: %w\n%s", err, out)
	}
	if out, err := exec.Command("chmod", "-R", "u+w", src).CombinedOutput(); err != nil {
		return fmt.Errorf("chmod: %w\n%s", err, out)
	}
	for _, ui := range []string{"elm", "mantine"} {
		d := filepath.Join(src, "ui", "app", "dist", ui)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "index.html"), []byte("<!doctype html><title>Alertmanager</title>built without its UI\n"), 0o644); err != nil {
			return err
		}
	}
	cmd := goCmd(src, "build", "-o", out, "./cmd/alertmanager")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/alertmanager: %w\n%s", err, b)
	}
	return nil
}
