package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/store"
)

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", "verify [--data-dir DIR]", `
Checks a data directory: re-hashes every part and compares it with the
hash recorded when the part was sealed, and checks that the manifest's
hash chain is unbroken, so that a part altered, removed or added outside
Sluice is detected. Prints every problem with the part's name and exits 1
if there is any. Safe to run while the server runs.`, stderr)
	dataDir := fs.String("data-dir", config.Default().DataDir, "data `directory` to check")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	problems, err := store.Verify(filepath.Join(*dataDir, "store"))
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s) found in %s", len(problems), *dataDir)
	}
	fmt.Fprintf(stdout, "%s: every part and the manifest chain are intact\n", *dataDir)
	return nil
}
