package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sluice-log/sluice/internal/trust"
	"github.com/sluice-log/sluice/internal/wal"
)

func runRepair(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("repair", "repair [--config FILE] [--data-dir DIR]", `
Salvages a data directory the server refuses to start on, with the server
stopped. Today it repairs the write-ahead log: a segment damaged in its
middle (or holding a batch whose commit or signature is wrong) is
rewritten from its readable batches; the seqs lost are recorded in it as
gap entries, signed with trust.signing_key_file when one is configured,
and the damaged file is kept as <segment>.damaged. It prints what was
kept and lost per segment. Records of a batch without a valid signature
are never kept, so repair cannot launder records added from outside.

A damaged part is not rewritten by repair yet: it is quarantined at
start, and 'sluice quarantine' restores a good copy or drops it.`, stderr)
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
	return nil
}
