package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/sluice-log/sluice/internal/store"
)

func runQuarantine(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("quarantine", "quarantine list | drop PART | restore PART [flags]", `
A part that fails a check (its sha256 on open, a block's checksum on a
read) is taken out of service and its file moved to the data directory's
store/quarantine/. Every query whose time range reaches into the part's
answers from the rest and says that it is partial, until an operator
decides:

  list          the quarantined parts (PART is partition/name), their
                records and the error that quarantined each
  drop PART     give the part up: a manifest entry records that its
                records are gone, its file is deleted, and queries over
                its time range are complete again (without them)
  restore PART  serve the part again, once the file in store/quarantine/
                (the damaged one, or a good copy from a backup put in its
                place under the same name) matches the size and sha256
                the manifest recorded for it

Examples:
  sluice quarantine list
  sluice quarantine restore 20240501/000000000000002a
  sluice quarantine drop 20240501/000000000000002a`, stderr)
	var c clientFlags
	c.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch {
	case len(pos) == 1 && pos[0] == "list":
		resp, err := c.request(ctx, "/api/v1/quarantine", url.Values{})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if c.json {
			_, err := io.Copy(stdout, resp.Body)
			return err
		}
		var list struct{ Parts []store.QuarantinedPart }
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		if len(list.Parts) == 0 {
			fmt.Fprintln(stdout, "no quarantined parts")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PART\tRECORDS\tERROR")
		for _, p := range list.Parts {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", p.ID, p.Records, p.Cause)
		}
		return tw.Flush()
	case len(pos) == 2 && (pos[0] == "drop" || pos[0] == "restore"):
		resp, err := c.request(ctx, "/internal/quarantine/"+pos[0], url.Values{"part": {pos[1]}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		done := map[string]string{"drop": "dropped", "restore": "restored"}[pos[0]]
		fmt.Fprintf(stdout, "%s %s\n", pos[1], done)
		return nil
	}
	return usagef("want 'list', 'drop PART' or 'restore PART'")
}
