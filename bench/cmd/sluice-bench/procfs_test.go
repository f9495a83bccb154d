package main

import (
	"os"
	"strconv"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint64
		ok   bool
	}{
		{"plain", "1234 (sluice) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 75 0 0 20 0 12 0 100 1000000 2000 18446744073709551615\n", 325, true},
		{"spaces and parens in the name", "99 (my (odd) prog) R 1 99 99 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 5 100 10 0\n", 15, true},
		{"no name", "1234 sluice S 1", 0, false},
		{"truncated", "1234 (sluice) S 1 1234", 0, false},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 8 0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseStat = %d, %v; want %d, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
		ok   bool
	}{
		{"status", "Name:\tsluice\nVmPeak:\t  900000 kB\nVmHWM:\t  409600 kB\nVmRSS:\t  300000 kB\n", 409600 * 1024, true},
		{"missing", "Name:\tsluice\nVmRSS:\t  300000 kB\n", 0, false},
		{"bad unit", "VmHWM:\t  4096 MB\n", 0, false},
		{"bad number", "VmHWM:\t  x kB\n", 0, false},
		{"VmRSS is not the peak", "VmRSS:\t  300000 kB\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmHWM([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseVmHWM = %d, %v; want %d, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseCPUModel(t *testing.T) {
	in := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654 96-Core Processor\nprocessor\t: 1\nmodel name\t: AMD EPYC 9654 96-Core Processor\n"
	if got := parseCPUModel([]byte(in)); got != "AMD EPYC 9654 96-Core Processor" {
		t.Errorf("parseCPUModel = %q", got)
	}
	if got := parseCPUModel([]byte("processor\t: 0\n")); got != "unknown" {
		t.Errorf("parseCPUModel without a model = %q", got)
	}
}

// TestProcfsOfSelf reads this test process's own entries, so that the
// parsers are known to fit the real kernel's format.
func TestProcfsOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no procfs")
	}
	pid := os.Getpid()
	if _, err := cpuSeconds(pid); err != nil {
		t.Errorf("cpuSeconds(%d): %v", pid, err)
	}
	rss, err := peakRSS(pid)
	if err != nil || rss <= 0 {
		t.Errorf("peakRSS(%d) = %d, %v", pid, rss, err)
	}
	now, err := readRSS(pid)
	if err != nil || now.RSS <= 0 || now.RSS > now.Peak {
		t.Errorf("readRSS(%d) = %+v, %v; want 0 < RSS <= peak", pid, now, err)
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1234 (sluice) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 75 0 0 20 0 12 0 100"))
	f.Add([]byte("1 ()) R " + strconv.Itoa(0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		ticks, err := parseStat(b)
		if err != nil && ticks != 0 {
			t.Fatalf("error %v with ticks %d", err, ticks)
		}
	})
}

func FuzzParseVmHWM(f *testing.F) {
	f.Add([]byte("VmHWM:\t  409600 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseVmHWM(b)
		if err == nil && (n < 0 || n%1024 != 0) {
			t.Fatalf("parseVmHWM = %d: not a whole number of kB", n)
		}
	})
}
