package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/trust"
)

// loadSigningKey reads trust.signing_key_file (or $SLUICE_SIGNING_KEY),
// refusing a key kept inside the data directory; nil when none is set.
func loadSigningKey(cfg config.Config, log *slog.Logger) (ed25519.PrivateKey, error) {
	if err := trust.CheckOutside(cfg.Trust.SigningKeyFile, cfg.DataDir); err != nil {
		return nil, err
	}
	key, err := trust.LoadSigningKey(cfg.Trust.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	if key == nil {
		log.Warn("no trust.signing_key_file: WAL batches and manifest entries are not signed, so whoever can write the data directory can rewrite it unseen (docs/storage.md, Threat model)")
	}
	return key, nil
}

// openWitness opens trust.witness, or returns nil when none is set.
func openWitness(cfg config.Config, log *slog.Logger) (trust.Witness, error) {
	if cfg.Trust.Witness == "" {
		return nil, nil
	}
	var env trust.Env
	if len(cfg.Kafka.Brokers) > 0 {
		opts, err := kafkaClient(cfg).KgoOptions(log.With("component", "witness"))
		if err != nil {
			return nil, err
		}
		env.KafkaOpts = opts
	}
	return trust.Open(cfg.Trust.Witness, env)
}

// startPublisher pushes head() to the witness every trust.witness_interval,
// after checking that the data directory is not behind what the witness
// holds (a rollback while the server was stopped): that is logged as an
// error, and sluice verify --config reports it.
func startPublisher(cfg config.Config, w trust.Witness, key ed25519.PrivateKey, head func() trust.Head, log *slog.Logger) *trust.Publisher {
	log = log.With("component", "witness")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	local := head()
	if wh, ok, err := w.Get(ctx); err != nil {
		log.Warn("cannot read the witness's head to compare at start", "witness", trust.Redact(cfg.Trust.Witness), "err", err)
	} else if ok && (wh.Seq > local.Seq || wh.WALSeq > local.WALSeq) {
		log.Error("the data directory is behind its witness: it was rolled back or cut back while the server was stopped; run sluice verify --config",
			"witness_seq", wh.Seq, "witness_wal_seq", wh.WALSeq, "manifest_seq", local.Seq, "wal_seq", local.WALSeq)
	}
	var signKey []byte
	if key != nil {
		signKey = key
	}
	p := trust.NewPublisher(w, cfg.Trust.Witness, signKey, head, time.Duration(cfg.Trust.WitnessInterval), log)
	log.Info("pushing the chain head to the witness", "witness", trust.Redact(cfg.Trust.Witness), "interval", time.Duration(cfg.Trust.WitnessInterval))
	return p
}

// closePublisher pushes the final head and stops the publisher.
func closePublisher(p *trust.Publisher) error {
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		return fmt.Errorf("push the final chain head to the witness: %w", err)
	}
	return nil
}
