package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kafka := write("kafka", "s3cret\n")
	es := write("es", "p@ss word\r\n")
	key := write("key", "a2V5")
	shared := write("shared", "forward-key")
	empty := write("empty", "\n")
	huge := write("huge", strings.Repeat("x", maxSecretBytes+1))

	tests := []struct {
		name    string
		yaml    string
		check   func(Config) bool
		wantErr string // from Parse (validation) or ReadSecretFiles
	}{
		{
			name: "every file read, line end dropped, inner space kept",
			yaml: "kafka: {password_file: " + kafka + "}\nsink: {elasticsearch: {password_file: " + es + ", api_key_file: " + key + "}}\nforward: {shared_key_file: " + shared + ", users: [{username: u, password: p}, {username: v, password_file: " + kafka + "}]}\n",
			check: func(c Config) bool {
				return c.Kafka.Password == "s3cret" && c.Sink.Elasticsearch.Password == "p@ss word" &&
					c.Sink.Elasticsearch.APIKey == "a2V5" && c.Forward.SharedKey == "forward-key" &&
					c.Forward.Users[0].Password == "p" && c.Forward.Users[1].Password == "s3cret"
			},
		},
		{name: "no files: values unchanged", yaml: "kafka: {password: inline}\n", check: func(c Config) bool { return c.Kafka.Password == "inline" }},
		{name: "value and file", yaml: "kafka: {password: x, password_file: " + kafka + "}\n", wantErr: "set kafka.password or kafka.password_file, not both"},
		{name: "forward user's password and file", yaml: "forward: {shared_key: k, users: [{username: u, password: x, password_file: " + kafka + "}]}\n",
			wantErr: `set forward.users["u"].password or forward.users["u"].password_file, not both`},
		{name: "missing file", yaml: "sink: {elasticsearch: {api_key_file: " + filepath.Join(dir, "nope") + "}}\n", wantErr: "sink.elasticsearch.api_key_file: open "},
		{name: "empty file", yaml: "kafka: {password_file: " + empty + "}\n", wantErr: "is empty"},
		{name: "huge file", yaml: "kafka: {password_file: " + huge + "}\n", wantErr: "not a password or key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(strings.NewReader(tt.yaml))
			if err == nil {
				err = cfg.ReadSecretFiles()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			// serve validates again once the secrets are read.
			if err == nil {
				err = cfg.Validate()
			}
			if err != nil || !tt.check(cfg) {
				t.Fatalf("err %v, config kafka=%q es=%q key=%q shared=%q", err, cfg.Kafka.Password, cfg.Sink.Elasticsearch.Password, cfg.Sink.Elasticsearch.APIKey, cfg.Forward.SharedKey)
			}
		})
	}
}
