package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat; it is
// 100 on every Linux platform Go supports.
const clockTicks = 100

// parseStat returns utime+stime, in clock ticks, from the contents of
// /proc/PID/stat. The command name in parentheses may hold spaces and
// parentheses itself, so fields are counted from the last ')'.
func parseStat(b []byte) (uint64, error) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, fmt.Errorf("parse /proc stat: no command name")
	}
	// After ") " come fields 3 (state) onwards; utime and stime are fields
	// 14 and 15.
	fields := strings.Fields(string(b[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the command name, want at least 13", len(fields))
	}
	utime, err := strconv.ParseUint(fields[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc stat utime: %w", err)
	}
	stime, err := strconv.ParseUint(fields[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc stat stime: %w", err)
	}
	return utime + stime, nil
}

// cpuSeconds returns the CPU time process pid has used so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of process %d: %w", pid, err)
	}
	ticks, err := parseStat(b)
	if err != nil {
		return 0, err
	}
	return float64(ticks) / clockTicks, nil
}

// parseVmHWM returns the peak resident set size in bytes from the contents
// of /proc/PID/status.
func parseVmHWM(b []byte) (int64, error) { return parseStatusKB(b, "VmHWM") }

// parseStatusKB returns the size of the /proc/PID/status line key (VmHWM,
// VmRSS), given in kB there, in bytes.
func parseStatusKB(b []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse %s %q: want a number of kB", key, rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 || kb > math.MaxInt64/1024 {
			return 0, fmt.Errorf("parse %s %q: not a size", key, rest)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("parse /proc status: no %s line", key)
}

// peakRSS returns the peak resident set size of process pid in bytes.
func peakRSS(pid int) (int64, error) {
	rss, err := readRSS(pid)
	return rss.Peak, err
}

// rssSample is one reading of a process's memory: resident now (VmRSS) and
// the peak so far (VmHWM), in bytes.
type rssSample struct {
	RSS  int64 `json:"rss_bytes"`
	Peak int64 `json:"peak_rss_bytes"`
}

// readRSS reads VmRSS and VmHWM of process pid.
func readRSS(pid int) (rssSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rssSample{}, fmt.Errorf("read RSS of process %d: %w", pid, err)
	}
	var s rssSample
	if s.RSS, err = parseStatusKB(b, "VmRSS"); err != nil {
		return s, err
	}
	s.Peak, err = parseStatusKB(b, "VmHWM")
	return s, err
}

// parseCPUModel returns the first "model name" in /proc/cpuinfo contents, or
// "unknown".
func parseCPUModel(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}
