package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/trust"
	"github.com/sluice-log/sluice/internal/wal"
)

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", "verify [--config FILE] [--data-dir DIR] [--public-key PATH] [--anchor SEQ:HASH ...]", `
Checks a data directory: re-hashes every part and compares it with the
hash recorded when the part was sealed, and checks that the manifest's
hash chain is unbroken, so that a part altered, removed or added outside
Sluice is detected. Prints every problem with the part's name and exits 1
if there is any. Safe to run while the server runs.

With --config FILE it also checks what trust configures there (or with
--public-key PATH): every manifest entry's and every WAL batch's ed25519
signature with the public key (trust.public_key_file, else
trust.signing_key_file + .pub), so that entries rewritten or records
added to the WAL outside Sluice are reported ("signature: …", "wal: …");
and the head last pushed to trust.witness, so that a data directory cut
back or rolled back to an older copy is reported ("witness: …"). See
docs/storage.md, Threat model.

It ends by printing the manifest head ("manifest head: SEQ:HASH"). The
head's hash covers the whole history before it: keep it somewhere Sluice
cannot write (a ticket, another system), and pass it back later with
--anchor to prove that the history up to it was not rewritten or cut back,
which the chain alone cannot show if every hash was recomputed.`, stderr)
	cfgPath := fs.String("config", "", "the server's configuration `file`: its data_dir and trust section")
	dataDir := fs.String("data-dir", "", "data `directory` to check (overrides data_dir; default "+config.Default().DataDir+")")
	pubPath := fs.String("public-key", "", "public key `path` to check signatures with (overrides trust.public_key_file)")
	var anchors []store.Anchor
	fs.Func("anchor", "a manifest head `SEQ:HASH` printed by an earlier verify that must still be in the chain (repeatable)", func(s string) error {
		a, err := store.ParseAnchor(s)
		if err != nil {
			return err
		}
		anchors = append(anchors, a)
		return nil
	})
	cfg, err := parseConfigFlags(fs, args, cfgPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *pubPath == "" {
		*pubPath = cfg.Trust.PublicKeyPath()
	}
	var pub ed25519.PublicKey
	if *pubPath != "" {
		if pub, err = trust.LoadPublicKey(*pubPath); err != nil {
			return err
		}
	}
	operatorAnchors := len(anchors)
	var witnessHead *trust.Head
	if cfg.Trust.Witness != "" {
		h, err := readWitness(cfg, pub)
		if err != nil {
			return err
		}
		if h != nil {
			witnessHead = h
			anchors = append(anchors, store.Anchor{Seq: h.Seq, Hash: h.Hash, Witness: true})
		}
	}

	r, err := store.AuditSigned(filepath.Join(cfg.DataDir, "store"), pub, anchors...)
	if err != nil {
		return err
	}
	problems := make([]string, 0, len(r.Problems))
	for _, p := range r.Problems {
		problems = append(problems, p.String())
	}
	wr, err := wal.Verify(filepath.Join(cfg.DataDir, "wal"), pub)
	if err != nil {
		return err
	}
	for _, p := range wr.Problems {
		problems = append(problems, "wal: "+p.String())
	}
	if h := witnessHead; h != nil && h.WALSeq > max(wr.LastSeq, r.Watermark) {
		problems = append(problems, fmt.Sprintf("witness: the witness saw WAL records up to seq %d (at %s), the data directory holds them up to seq %d: acknowledged records were cut from the WAL, or the directory was rolled back",
			h.WALSeq, h.Time.Format(time.RFC3339), max(wr.LastSeq, r.Watermark)))
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	fmt.Fprintf(stdout, "manifest head: %s (%d live parts, %d records)\n", r.Head, r.Parts, r.Records)
	if pub != nil {
		fmt.Fprintf(stdout, "signatures checked with %s: manifest entries signed since entry %d, WAL up to seq %d\n", *pubPath, r.SignedSince, wr.LastSeq)
	}
	if witnessHead != nil {
		fmt.Fprintf(stdout, "witness %s: entry %d, WAL seq %d, pushed %s\n", trust.Redact(cfg.Trust.Witness), witnessHead.Seq, witnessHead.WALSeq, witnessHead.Time.Format(time.RFC3339))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s) found in %s", len(problems), cfg.DataDir)
	}
	if operatorAnchors > 0 {
		fmt.Fprintf(stdout, "%d anchor(s) found in the chain\n", operatorAnchors)
	}
	fmt.Fprintf(stdout, "%s: every part and the manifest chain are intact\n", cfg.DataDir)
	return nil
}

// readWitness reads the head the node last pushed to its witness and, with
// a public key, checks its signature; nil when the witness holds none yet.
func readWitness(cfg config.Config, pub ed25519.PublicKey) (*trust.Head, error) {
	w, err := openWitness(cfg, newLogger(cfg.Log, io.Discard))
	if err != nil {
		return nil, err
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, ok, err := w.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the witness %s: %w", trust.Redact(cfg.Trust.Witness), err)
	}
	if !ok {
		return nil, nil
	}
	if pub != nil {
		if err := h.Verify(pub); err != nil {
			return nil, fmt.Errorf("witness %s: %w: the head there was not pushed by this node", trust.Redact(cfg.Trust.Witness), err)
		}
	}
	return &h, nil
}
