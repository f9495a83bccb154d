package kafka

import (
	"crypto/tls"
	"errors"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// ClientOptions says how to reach the brokers.
type ClientOptions struct {
	Brokers  []string
	TLS      bool
	Username string // SASL/PLAIN when set
	Password string
}

// KgoOptions are the franz-go options that reach the brokers, for other
// packages' clients (the trust package's Kafka witness).
func (c ClientOptions) KgoOptions(log *slog.Logger) ([]kgo.Opt, error) { return c.kgoOpts(log) }

func (c ClientOptions) kgoOpts(log *slog.Logger) ([]kgo.Opt, error) {
	if len(c.Brokers) == 0 {
		return nil, errors.New("no Kafka brokers configured")
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.WithLogger(slogAdapter{log}),
	}
	if c.TLS {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	if c.Username != "" {
		opts = append(opts, kgo.SASL(plain.Auth{User: c.Username, Pass: c.Password}.AsMechanism()))
	}
	return opts, nil
}

// slogAdapter passes franz-go's warnings and errors to slog; its info and
// debug chatter stays out of Sluice's logs.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (a slogAdapter) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		a.log.Error(msg, keyvals...)
	case kgo.LogLevelWarn:
		a.log.Warn(msg, keyvals...)
	}
}
