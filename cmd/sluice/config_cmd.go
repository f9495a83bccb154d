package main

import (
	"fmt"
	"io"

	"github.com/sluice-log/sluice/internal/config"
)

func runConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("config", "config defaults | config check FILE", `
'config defaults' prints every option with its default value and its
documentation, as a YAML file to start from:

  sluice config defaults > sluice.yaml

'config check FILE' reads a configuration file and reports every invalid
or unknown option.`, stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 1 && pos[0] == "defaults":
		return config.WriteDefaults(stdout)
	case len(pos) == 2 && pos[0] == "check":
		if _, err := config.Load(pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok\n", pos[1])
		return nil
	}
	return usagef("want 'defaults' or 'check FILE'")
}
