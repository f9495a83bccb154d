package config

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// secretFile is an option whose value may instead be read from a file, so
// that a password can come from a mounted Kubernetes Secret or compose
// secret while the rest of the configuration sits in a ConfigMap.
type secretFile struct {
	option string  // dotted path of the value, e.g. kafka.password
	value  *string // the value
	file   string  // the path of <option>_file
}

func (c *Config) secretFiles() []secretFile {
	files := []secretFile{
		{"kafka.password", &c.Kafka.Password, c.Kafka.PasswordFile},
		{"sink.elasticsearch.password", &c.Sink.Elasticsearch.Password, c.Sink.Elasticsearch.PasswordFile},
		{"sink.elasticsearch.api_key", &c.Sink.Elasticsearch.APIKey, c.Sink.Elasticsearch.APIKeyFile},
		{"forward.shared_key", &c.Forward.SharedKey, c.Forward.SharedKeyFile},
		{"querier.api_key", &c.Querier.APIKey, c.Querier.APIKeyFile},
		{"kafka.tenant_signing_key", &c.Kafka.TenantSigningKey, c.Kafka.TenantSigningKeyFile},
	}
	for i := range c.Forward.Users {
		u := &c.Forward.Users[i]
		files = append(files, secretFile{fmt.Sprintf("forward.users[%q].password", u.Username), &u.Password, u.PasswordFile})
	}
	for i := range c.Alerts.Notifiers {
		n := &c.Alerts.Notifiers[i]
		where := fmt.Sprintf("alerts.notifiers[%d]", i)
		files = append(files, secretFile{where + ".password", &n.Password, n.PasswordFile},
			secretFile{where + ".routing_key", &n.RoutingKey, n.RoutingKeyFile})
	}
	return files
}

func (c *Config) validateSecretFiles() []error {
	if c.secretsRead {
		// The values came from the files: validating again (serve does,
		// after memory_limit: auto) must not take them for both set.
		return nil
	}
	var errs []error
	for _, s := range c.secretFiles() {
		if s.file != "" && *s.value != "" {
			errs = append(errs, fmt.Errorf("set %s or %s_file, not both", s.option, s.option))
		}
	}
	return errs
}

// maxSecretBytes bounds a secret file: a password or key is short, and a
// path pointing at something else by mistake must not be read whole.
const maxSecretBytes = 64 << 10

// ReadSecretFiles sets every option that has its <option>_file set from
// that file. `sluice serve` calls it once the configuration is valid; other
// commands that read the configuration (config check, healthcheck) do not,
// as they may run where the secrets are not mounted.
func (c *Config) ReadSecretFiles() error {
	for _, s := range c.secretFiles() {
		if s.file == "" {
			continue
		}
		v, err := readSecretFile(s.file)
		if err != nil {
			return fmt.Errorf("%s_file: %w", s.option, err)
		}
		*s.value = v
	}
	c.secretsRead = true
	return nil
}

func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxSecretBytes {
		return "", fmt.Errorf("%s is larger than %d bytes: not a password or key", path, maxSecretBytes)
	}
	// `echo secret > file` and `kubectl create secret --from-file` keep the
	// line's end; it is never part of the secret.
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}
