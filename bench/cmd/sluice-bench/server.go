package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one running sluice process.
type server struct {
	cmd       *exec.Cmd
	base      string // http://127.0.0.1:port
	logPath   string
	readyPath string        // answers 200 once the server serves
	done      chan struct{} // closed when the process has exited
	waitErr   error         // set before done is closed
}

// startServer starts sys serving dataDir on a free local port, with its
// output in logPath.
func startServer(sys system, dataDir, logPath string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create server log: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(sys.binary, sys.args(dataDir, addr)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", sys.binary, err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, logPath: logPath, readyPath: sys.readyPath(), done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	return s, nil
}

// freePort asks the kernel for a port nobody listens on. Another process
// could take it before the server binds it; the readiness wait then fails
// with the server's own error in its log.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// waitReady polls the readiness path until it answers 200.
func (s *server) waitReady(ctx context.Context, c *http.Client, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+s.readyPath, nil)
		if err != nil {
			return fmt.Errorf("build readiness request: %w", err)
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("server exited before it was ready (%v); log %s:\n%s", s.waitErr, s.logPath, s.logTail(20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %s; log %s:\n%s", timeout, s.logPath, s.logTail(20))
		}
	}
}

// stop sends SIGTERM and waits for the process to exit. It returns how long
// that took and an error unless the process exited with status 0 in time;
// a process still running at the deadline is killed.
func (s *server) stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, fmt.Errorf("send SIGTERM to server: %w", err)
	}
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.kill()
		return time.Since(start), fmt.Errorf("server did not exit within %s of SIGTERM; killed it", timeout)
	}
	took := time.Since(start)
	if s.waitErr != nil {
		return took, fmt.Errorf("server exit after SIGTERM: %w; log %s:\n%s", s.waitErr, s.logPath, s.logTail(20))
	}
	return took, nil
}

// kill ends the process at once, for the paths where the run failed.
func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// exited reports whether the process has ended (and how), so that a crash
// is reported as such rather than as refused connections.
func (s *server) exited() (bool, error) {
	select {
	case <-s.done:
		return true, s.waitErr
	default:
		return false, nil
	}
}

// logTail returns the last n lines of the server's log.
func (s *server) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
