package syslog

import (
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
)

// Config says how the syslog receiver reads and batches.
type Config struct {
	// MaxMessageBytes bounds one message; longer ones are skipped and
	// counted.
	MaxMessageBytes int
	// MaxConnections bounds concurrent TCP/TLS connections of one listener:
	// at the bound a new connection displaces the one that sent no whole
	// message for the longest, or is refused when every other one waits
	// for the sink. 0 means no limit.
	MaxConnections int
	// ReadTimeout closes a connection that sent nothing for this long.
	ReadTimeout time.Duration
	// StreamFields are the record fields (hostname, app_name, …) that become
	// stream labels.
	StreamFields []string
	// Tenant of every record.
	Tenant string
	// TenantFromCert makes a TLS connection's records the tenant its
	// client certificate's subject CN names (mutual TLS: the listener
	// requires a certificate); a CN that is not a valid tenant name closes
	// the connection.
	TenantFromCert bool
	// Refused, when set, is told of every connection closed for its
	// certificate's tenant (for the audit trail).
	Refused func(remote, cn string, err error)
	// BatchRecords and BatchDelay bound a batch: it goes to the sink when it
	// has BatchRecords records or its first record is BatchDelay old.
	BatchRecords int
	BatchDelay   time.Duration
	// DrainTimeout bounds the shutdown: reading stops shortly after the
	// context is cancelled, and pending batches are retried under
	// backpressure for at most this long before they are dropped and
	// counted.
	DrainTimeout time.Duration
	// Location is the time zone of RFC 3164 timestamps, which carry none.
	Location *time.Location
	// Window rejects (or stamps) records whose time is outside it; nil
	// accepts every time.
	Window *ingest.TimeWindow
	// InFlight bounds the bytes of batches being gathered and stored,
	// together with the other receivers'; nil: no bound.
	InFlight *ingest.InFlight
}

// Defaults of the Config fields left zero.
const (
	DefaultMaxMessageBytes = 64 << 10
	DefaultReadTimeout     = 5 * time.Minute
	DefaultBatchRecords    = 1000
	DefaultBatchDelay      = 50 * time.Millisecond
	DefaultDrainTimeout    = 10 * time.Second
)

// drainGrace is how long a stream connection is still read after the
// context is cancelled, so that what senders already wrote into the socket
// is not lost on a clean shutdown.
const drainGrace = 200 * time.Millisecond

func (c Config) withDefaults() Config {
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.BatchRecords <= 0 {
		c.BatchRecords = DefaultBatchRecords
	}
	if c.BatchDelay <= 0 {
		c.BatchDelay = DefaultBatchDelay
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	return c
}
