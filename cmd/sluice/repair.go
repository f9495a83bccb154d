package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/trust"
	"github.com/sluice-log/sluice/internal/wal"
)

func runRepair(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("repair", "repair [--config FILE] [--data-dir DIR]", `
Salvages a data directory, with the server stopped.

The write-ahead log: a segment damaged in its middle (or holding a batch
whose commit or signature is wrong) is rewritten from its readable
batches; the seqs lost are recorded in it as gap entries, signed with
trust.signing_key_file when one is configured, and the damaged file is
kept as <segment>.damaged. Records of a batch without a valid signature
are never kept, so repair cannot launder records added from outside.

The store: every part's sha256 is checked in full (it reads every byte
stored), and every damaged part (one that fails, or one quarantined
before) is rewritten from its blocks that pass their checksums into a new
part of its partition. One manifest 'salvage' entry (signed with the key
when configured) removes the damaged part, adds the new one and says how
many records and blocks were lost; the damaged file is kept in
store/quarantine/ as <partition>-<name>.part.damaged. A quarantined part
whose file there matches the manifest (a good copy put in its place) is
served again as it is; one whose file is not there stays quarantined
(sluice quarantine drop gives it up).

It prints what was kept and lost per segment and per part, and exits 1
if a quarantined part could not be salvaged.`, stderr)
	cfgPath := fs.String("config", "", "the server's configuration `file`: its data_dir and trust.signing_key_file")
	dataDir := fs.String("data-dir", "", "data `directory` (overrides data_dir)")
	cfg, err := parseConfigFlags(fs, args, cfgPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return err
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	key, err := trust.LoadSigningKey(cfg.Trust.SigningKeyFile)
	if err != nil {
		return err
	}
	reps, err := wal.Repair(filepath.Join(cfg.DataDir, "wal"), key)
	for _, r := range reps {
		fmt.Fprintln(stdout, "wal: "+r.String())
	}
	if err != nil {
		return err
	}
	if len(reps) == 0 {
		fmt.Fprintln(stdout, "wal: every segment opens as it is; nothing to repair")
	}
	return salvageStore(cfg, key, stdout)
}

// salvageStore salvages the store's damaged parts (store.Salvage).
func salvageStore(cfg config.Config, key ed25519.PrivateKey, stdout io.Writer) error {
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(filepath.Join(cfg.DataDir, "store"), store.Options{
		BlockRecords:              cfg.Store.BlockRecords,
		ManifestCheckpointEntries: cfg.Store.ManifestCheckpointEntries,
		SigningKey:                key,
		MaxOpenFiles:              storeFiles(cfg.Store.MaxOpenFiles, log),
	}, log)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	reps, err := st.Salvage(context.Background())
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	failed := 0
	for _, r := range reps {
		fmt.Fprintln(stdout, "store: "+r.String())
		if r.Err != nil {
			failed++
		}
	}
	if err != nil {
		return err
	}
	if len(reps) == 0 {
		fmt.Fprintln(stdout, "store: every part matches its checksum; nothing to salvage")
	}
	if failed > 0 {
		return fmt.Errorf("%d quarantined parts could not be salvaged", failed)
	}
	return nil
}
