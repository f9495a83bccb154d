package main

import (
	"fmt"
	"io"

	"github.com/sluice-log/sluice/internal/trust"
)

func runTrust(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trust", "trust keygen --out PATH", `
keygen writes a new ed25519 signing key to PATH (PEM, mode 0600) and its
public key to PATH.pub, refusing to overwrite either. Point
trust.signing_key_file at PATH (or put its text in $SLUICE_SIGNING_KEY),
keeping it outside the data directory: the server then signs every WAL
batch and manifest entry, and 'sluice verify --config FILE' checks them
with PATH.pub (trust.public_key_file), which needs no private key.`, stderr)
	out := fs.String("out", "", "`path` of the signing key to write (the public key goes to PATH.pub)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "keygen" {
		return usagef("want: sluice trust keygen --out PATH")
	}
	if *out == "" {
		return usagef("keygen needs --out PATH")
	}
	pub, err := trust.GenerateKey(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signing key written to %s, public key to %s.pub (%x)\n", *out, *out, []byte(pub))
	return nil
}
