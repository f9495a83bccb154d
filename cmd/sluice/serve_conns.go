package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/connlimit"
)

// resolveConnLimits raises the open files limit to its hard limit and
// gives every listener of this process whose max_connections is 0 its
// share of the file descriptors left after the reserve for the store
// (connlimit.Budget), so that no crowd of clients can take the
// descriptors the store needs. storeFiles is the bound on the part files
// the store keeps open (0 without a store); receivers says whether this role runs the
// receivers' own listeners.
func resolveConnLimits(cfg *config.Config, storeFiles int, receivers bool, log *slog.Logger) {
	fds, err := connlimit.RaiseFDLimit()
	if err != nil {
		log.Warn("cannot read the open files limit; listeners without max_connections are not bounded", "err", err)
		fds = 0
	}
	limits := []*int{&cfg.HTTP.MaxConnections}
	names := []string{"http"}
	if receivers {
		if cfg.Forward.Enabled {
			limits, names = append(limits, &cfg.Forward.MaxConnections), append(names, "forward")
		}
		if cfg.Syslog.Enabled {
			// One setting bounds each of the two stream listeners.
			n := 0
			if cfg.Syslog.TCPAddr != "" && cfg.Syslog.PlaintextAllowed() {
				n++
			}
			if cfg.Syslog.TLS.Enabled() && cfg.Syslog.TLSAddr != "" {
				n++
			}
			for range n {
				limits, names = append(limits, &cfg.Syslog.MaxConnections), append(names, "syslog")
			}
		}
		if cfg.OTLP.Enabled && cfg.OTLP.GRPCAddr != "" {
			limits, names = append(limits, &cfg.OTLP.MaxConnections), append(names, "otlp_grpc")
		}
	}
	if fds == 0 {
		for _, l := range limits {
			if *l == 0 {
				*l = -1
			}
		}
		return
	}
	b := connlimit.NewBudget(fds, storeFiles, len(limits))
	configured := 0
	var split strings.Builder
	for i, l := range limits {
		if *l == 0 {
			*l = b.Share()
		}
		if *l > 0 {
			configured += *l
		}
		fmt.Fprintf(&split, " %s=%d", names[i], *l)
	}
	log.Info("file descriptors divided", "open_files_limit", b.FDs, "reserved", b.Reserved, "store_files", storeFiles,
		"for_connections", b.Conns, "max_connections", strings.TrimSpace(split.String()))
	if w := b.Warning(configured); w != "" {
		log.Warn(w)
	}
}

// storeFiles is store.max_open_files, or when 0 the share of the open
// files limit the connection budget reserves for the store
// (connlimit.StoreFiles).
func storeFiles(set int, log *slog.Logger) int {
	if set > 0 {
		return set
	}
	fds, err := connlimit.RaiseFDLimit()
	if err != nil {
		log.Warn("cannot read the open files limit; the store keeps at most 1024 part files open", "err", err)
		return 1024
	}
	return connlimit.StoreFiles(fds)
}
