package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sluice-log/sluice/internal/auth"
)

func runKeys(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys", "keys create|list|revoke --keys-file PATH [flags] [NAME]", `
Manages the API keys of auth.keys_file. The file holds each key's name,
tenants, roles and SHA-256, never the key itself; a running server notices
a change within auth.reload_interval (1s), without a restart. Revoked keys
stay in the file, so that a use of one is audited by its name.

  create --name NAME --tenant T[,T…] --role R[,R…]
          adds a key and prints it alone on stdout, once: store it now
  list    prints every key's name, tenants, roles, creation and revocation
  revoke NAME
          revokes the key: the server refuses it from its next re-reading

Roles: ingest (write through every receiver), query (query, tail, context,
status of its tenants), admin (whole status, /metrics, quarantine, force
flush; reads the audit trail, tenant _audit, with --tenant '*' or _audit).
Tenants: names of 1 to 64 letters, digits, '-', '_' and '.', starting with a
letter or digit; 'default' is the default tenant; '*' is every tenant. A key
with several tenants acts for the first unless the request's X-Scope-OrgID
names another of them.

Examples:
  sluice keys create --keys-file keys.json --name fluent-bit-acme --tenant acme --role ingest
  sluice keys create --keys-file keys.json --name grafana --tenant acme,beta --role query
  sluice keys create --keys-file keys.json --name ops --tenant '*' --role query,admin
  sluice keys list --keys-file keys.json
  sluice keys revoke --keys-file keys.json fluent-bit-acme`, stderr)
	path := fs.String("keys-file", "", "the keys `file` (auth.keys_file); created by the first create")
	name := fs.String("name", "", "create: the key's `name` (letters, digits, '-', '_', '.')")
	tenants := fs.String("tenant", "", "create: the `tenants` the key acts for, comma-separated ('default' names the default tenant, '*' every tenant)")
	roles := fs.String("role", "", "create: the key's `roles`, comma-separated: ingest, query, admin")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want a subcommand: create, list or revoke")
	}
	if *path == "" {
		return usagef("--keys-file is required")
	}
	f, err := auth.ReadFile(*path)
	if err != nil {
		return err
	}
	now := time.Now()
	switch {
	case pos[0] == "create" && len(pos) == 1:
		ts, err := auth.ParseTenants(*tenants)
		if err != nil {
			return usagef("--tenant: %v", err)
		}
		rs, err := auth.ParseRoles(*roles)
		if err != nil {
			return usagef("--role: %v", err)
		}
		secret, err := f.Create(*name, ts, rs, now)
		if err != nil {
			return err
		}
		if err := f.Write(*path); err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, secret)
		return err
	case pos[0] == "list" && len(pos) == 1:
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTENANTS\tROLES\tCREATED\tREVOKED")
		for _, k := range f.Keys {
			roles := make([]string, len(k.Roles))
			for i, r := range k.Roles {
				roles[i] = string(r)
			}
			revoked := "-"
			if k.Revoked != nil {
				revoked = k.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Name, strings.Join(k.Tenants, ","), strings.Join(roles, ","), k.Created.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case pos[0] == "revoke" && len(pos) == 2:
		if err := f.Revoke(pos[1], now); err != nil {
			return err
		}
		if err := f.Write(*path); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "key %q revoked; a running server refuses it within auth.reload_interval\n", pos[1])
		return nil
	}
	return usagef("want: create --name NAME --tenant T --role R | list | revoke NAME")
}
