package connlimit

import (
	"fmt"
	"syscall"
)

// RaiseFDLimit raises the soft limit on open files (RLIMIT_NOFILE) to the
// hard limit, as Prometheus and most servers do: the soft limit (often
// 1024) is a default for interactive programs, the hard one what the
// administrator allows. It returns the soft limit in force afterwards.
// Go's runtime already raises it on Linux at start; doing it here makes
// the figure explicit and covers platforms where it does not.
func RaiseFDLimit() (int, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("read the open files limit: %w", err)
	}
	if rl.Cur < rl.Max {
		raised := rl
		raised.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			rl = raised
		}
	}
	const maxInt = int(^uint(0) >> 1)
	if rl.Cur > uint64(maxInt) {
		return maxInt, nil
	}
	return int(rl.Cur), nil
}

// Budget divides the process's file descriptors between the store and the
// listeners, so that no crowd of clients can take the descriptors the
// store needs to flush, merge and search (an accept that fails for want of
// one leaves a listener deaf, a flush that fails leaves the WAL growing).
//
//	reserved = max(fds/4, storeFiles + 512), at most fds/2
//	per listener = (fds − reserved) / listeners
//
// The store keeps at most store.max_open_files part files open for
// reading (opened on demand, closed least recently used first), plus those
// a flush or a merge writes at once (GOMAXPROCS part writers, 16 files
// synced at a time) and the WAL's and manifest's: storeFiles is that
// bound, and the 512 beside it cover writers, the WAL, Kafka's and
// Elasticsearch's connections and the process's own files. A quarter of
// the descriptors is the floor of the reserve, half its ceiling: past
// that the operator must raise the limit (see Warning). Left to the
// budget, the store's bound is StoreFiles: the floor less the slack.
type Budget struct {
	FDs       int // the open files limit in force
	Reserved  int // kept for everything but client connections
	Conns     int // FDs − Reserved, shared by the listeners
	Listeners int // listeners sharing Conns
	// StoreFiles is what the reserve was sized for.
	StoreFiles int
}

// reserveSlack is what the reserve keeps beside the store's open parts.
const reserveSlack = 512

// StoreFiles is the bound on a store's open part files that fits the
// reserve's floor: a quarter of fds less reserveSlack, at least 64.
func StoreFiles(fds int) int {
	return max(64, fds/4-reserveSlack)
}

// NewBudget splits fds among listeners after the reserve for a store with
// storeFiles open files (0 for a role without a store).
func NewBudget(fds, storeFiles, listeners int) Budget {
	reserved := min(max(fds/4, storeFiles+reserveSlack), fds/2)
	return Budget{FDs: fds, Reserved: reserved, Conns: fds - reserved, Listeners: max(listeners, 1), StoreFiles: storeFiles}
}

// Share is one listener's bound when its configuration leaves it to the
// budget (at least 1).
func (b Budget) Share() int {
	return max(b.Conns/b.Listeners, 1)
}

// Warning says what is wrong with the budget, "" when nothing: the store
// needs more than the reserve can give, or the configured bounds (the
// shares included) add up to more than Conns.
func (b Budget) Warning(configured int) string {
	switch {
	case b.StoreFiles+reserveSlack > b.Reserved:
		return fmt.Sprintf("the store has %d files open and the open files limit is %d, which leaves too few for it beside the client connections: raise the limit (ulimit -n, systemd's LimitNOFILE=, the container's nofile ulimit) to at least %d", b.StoreFiles, b.FDs, 2*(b.StoreFiles+reserveSlack))
	case configured > b.Conns:
		return fmt.Sprintf("the listeners' max_connections add up to %d, more than the %d file descriptors left for connections (open files limit %d, %d kept for the store): a crowd of clients can make the store's flushes fail; lower them or raise the limit", configured, b.Conns, b.FDs, b.Reserved)
	}
	return ""
}
