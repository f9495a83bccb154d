package deploy

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/sluice-log/sluice/internal/config"
)

// The image's probe, as both compose files call it.
var healthcheckTest = []string{"CMD", "/usr/local/bin/sluice", "healthcheck", "--config", "/etc/sluice/sluice.yaml"}

// TestCompose loads each compose file with compose-go, the Compose
// specification's reference loader (schema validation, anchors and merges,
// interpolation, normalisation), and checks every Sluice service against
// the Dockerfile and its configuration, parsed by Sluice's own parser.
// No container runtime runs here: the stacks were never started.
func TestCompose(t *testing.T) {
	tests := []struct {
		file  string
		roles map[string]string // service → role
	}{
		{"compose.yaml", map[string]string{
			"gateway-1": "gateway", "gateway-2": "gateway", "indexer-a": "indexer", "indexer-b": "indexer",
			"querier": "querier", "search-indexer": "indexer",
		}},
		{"compose-single.yaml", map[string]string{"sluice": "all"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := loadCompose(t, tt.file)
			for _, e := range checkCompose(p, tt.roles) {
				t.Error(e)
			}
		})
	}
}

// loadCompose loads a compose file as `docker compose` run in deploy/
// would: paths (the build context ..) are relative to deploy/.
// TestComposeChecksCatch breaks the scale-out compose file one way at a
// time and expects checkCompose to say so.
func TestComposeChecksCatch(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := string(b)
	roles := map[string]string{"gateway-1": "gateway", "gateway-2": "gateway", "indexer-a": "indexer", "indexer-b": "indexer", "querier": "querier", "search-indexer": "indexer"}
	expectCaught(t, good, []breakage{
		{`test: ["CMD", "/usr/local/bin/sluice", "healthcheck"`, `test: ["CMD", "wget", "-qO-"`, "healthcheck"},
		{`- "4317:4317"`, `- "6514:6514"`, "publishes 6514/tcp, where nothing listens"},
		{`otlp: {grpc_addr: ":4317"}`, `otlp: {grpc_addr: "127.0.0.1:4317"}`, "listens on 127.0.0.1 only"},
		{"auth: {enabled: true", "auth: {enabled: false", "auth is off"},
		{`"./keys:/etc/sluice/keys:ro"]`, `"./keys:/etc/sluice/keys"]`, "is not in a directory bind-mounted read-only"},
		{"keys_file: /etc/sluice/keys/keys.json}", "keys_file: /run/secrets/keys}", "auth.keys_file /run/secrets/keys is not in a directory"},
		{"secrets: [sluice-querier-key]", "secrets: []", "querier.api_key_file /run/secrets/sluice-querier-key is not a mounted secret"},
		{"secrets: [kafka-tenant-key]", "secrets: []", "kafka.tenant_signing_key_file /run/secrets/kafka-tenant-key is not a mounted secret"},
		{", api_key_file: /run/secrets/sluice-querier-key}", "}", "without querier.api_key_file"},
		{", tenant_signing_key_file: /run/secrets/kafka-tenant-key}", "}", "not signed"},
		{"consumer_group: sluice-indexers-b", "consumer_group: sluice-indexers-a", "share consumer group sluice-indexers-a"},
		{`volumes: ["indexer-a:/var/lib/sluice", `, `volumes: [`, "indexer-a: data_dir /var/lib/sluice is not on a named volume"},
		{"stop_grace_period: 60s", "stop_grace_period: 10s", "leaves no time to flush"},
		{`, "http://indexer-b:9280"]`, `]`, "querier.indexers [http://indexer-a:9280], want"},
		{"context: ..", "context: .", "not built from the repository's Dockerfile"},
		{"sink: {type: store}", "sink: {type: stores}", "sink.type must be store"},
	}, func(broken string) []string {
		file := filepath.Join(t.TempDir(), "compose.yaml")
		if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		return checkCompose(loadCompose(t, file), roles)
	})
}

func loadCompose(t *testing.T, file string) *types.Project {
	t.Helper()
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{file}, cli.WithWorkingDirectory(wd), cli.WithInterpolation(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return p
}

// checkCompose returns what is wrong with a loaded project.
func checkCompose(p *types.Project, roles map[string]string) []string {
	var errs []string
	errorf := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	root, _ := filepath.Abs(repoRoot)
	configs := map[string]config.Config{}
	for name, s := range p.Services {
		if s.Image != "sluice:dev" {
			continue
		}
		if s.Build == nil || s.Build.Context != root || s.Build.Dockerfile != "Dockerfile" {
			errorf("%s: not built from the repository's Dockerfile", name)
		}
		if s.HealthCheck == nil || !slices.Equal([]string(s.HealthCheck.Test), healthcheckTest) {
			errorf("%s: healthcheck %v, want %v", name, s.HealthCheck, healthcheckTest)
		}
		if s.Command != nil || s.Entrypoint != nil {
			errorf("%s: overrides the image's command; mount a configuration instead", name)
		}
		cfg, err := serviceConfig(p, s)
		if err != nil {
			errorf("%s: %v", name, err)
			continue
		}
		configs[name] = cfg
		if cfg.Role != roles[name] {
			errorf("%s: role %s, want %s", name, cfg.Role, roles[name])
		}
		// Authentication is on in every deployment (docs/security.md).
		// The querier's admin key and the Kafka tenant signing key are
		// mounted secrets too; gateways and indexers sign their tenants.
		mounted := func(path string) bool {
			return slices.ContainsFunc(s.Secrets, func(sc types.ServiceSecretConfig) bool { return "/run/secrets/"+sc.Source == path })
		}
		// The keys file's directory is bind-mounted, not the file: sluice
		// keys create/revoke replace the file (a rename), which a bind
		// mount of the file, a compose secret included, would never show.
		keysDir := slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
			return v.Type == types.VolumeTypeBind && v.Target == path.Dir(cfg.Auth.KeysFile) && v.ReadOnly
		})
		if !cfg.Auth.Enabled {
			errorf("%s: auth is off", name)
		} else if !keysDir {
			errorf("%s: auth.keys_file %s is not in a directory bind-mounted read-only", name, cfg.Auth.KeysFile)
		}
		for option, path := range map[string]string{"querier.api_key_file": cfg.Querier.APIKeyFile, "kafka.tenant_signing_key_file": cfg.Kafka.TenantSigningKeyFile} {
			if path != "" && !mounted(path) {
				errorf("%s: %s %s is not a mounted secret", name, option, path)
			}
		}
		if cfg.Role == config.RoleQuerier && cfg.Querier.APIKeyFile == "" && cfg.Querier.APIKey == "" {
			errorf("%s: a querier without querier.api_key_file cannot read its indexers' status", name)
		}
		if (cfg.Role == config.RoleGateway || cfg.Role == config.RoleIndexer) && cfg.Kafka.TenantSigningKeyFile == "" {
			errorf("%s: Kafka messages' tenants are not signed (kafka.tenant_signing_key_file)", name)
		}
		// Every published port is a listener on every interface.
		listeners := map[string]string{
			portOf(cfg.HTTP.Addr) + "/tcp": cfg.HTTP.Addr,
		}
		if cfg.Role == config.RoleAll || cfg.Role == config.RoleGateway {
			for _, l := range [][2]string{{cfg.Forward.Addr, "tcp"}, {cfg.Forward.Addr, "udp"}, {cfg.Syslog.TCPAddr, "tcp"}, {cfg.Syslog.UDPAddr, "udp"}, {cfg.OTLP.GRPCAddr, "tcp"}} {
				listeners[portOf(l[0])+"/"+l[1]] = l[0]
			}
		}
		for _, port := range s.Ports {
			key := fmt.Sprintf("%d/%s", port.Target, port.Protocol)
			addr, ok := listeners[key]
			if !ok {
				errorf("%s: publishes %s, where nothing listens", name, key)
			} else if host, _, _ := net.SplitHostPort(addr); host != "" {
				errorf("%s: publishes %s, but %s listens on %s only", name, key, addr, host)
			}
		}
		if cfg.Role == config.RoleAll || (cfg.Role == config.RoleIndexer && cfg.Sink.Type == "store") {
			if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
				return v.Type == types.VolumeTypeVolume && v.Target == cfg.DataDir
			}) {
				errorf("%s: data_dir %s is not on a named volume", name, cfg.DataDir)
			}
		}
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) < time.Duration(cfg.HTTP.ShutdownTimeout)+10*time.Second {
			errorf("%s: stop_grace_period leaves no time to flush after http.shutdown_timeout %v", name, time.Duration(cfg.HTTP.ShutdownTimeout))
		}
	}
	for name := range roles {
		if _, ok := configs[name]; !ok && !slices.ContainsFunc(errs, func(e string) bool { return strings.HasPrefix(e, name+":") }) {
			errorf("service %s missing", name)
		}
	}
	groups := map[string]string{}
	for name, cfg := range configs {
		if cfg.Role != config.RoleIndexer {
			continue
		}
		if other, dup := groups[cfg.Kafka.ConsumerGroup]; dup {
			errorf("%s and %s share consumer group %s", name, other, cfg.Kafka.ConsumerGroup)
		}
		groups[cfg.Kafka.ConsumerGroup] = name
	}
	if q, ok := p.Services["querier"]; ok {
		indexers, err := querierIndexers(p, q)
		if err != nil {
			errorf("querier: %v", err)
		}
		var stores []string
		for name, cfg := range configs {
			if cfg.Role == config.RoleIndexer && cfg.Sink.Type == "store" {
				stores = append(stores, "http://"+name+":"+portOf(cfg.HTTP.Addr))
			}
		}
		slices.Sort(stores)
		slices.Sort(indexers)
		if !slices.Equal(stores, indexers) {
			errorf("querier.indexers %v, want the store indexers %v", indexers, stores)
		}
	}
	return errs
}

// serviceConfig is the Sluice configuration a service runs with: the
// compose config mounted over the image's, or the image's own.
func serviceConfig(p *types.Project, s types.ServiceConfig) (config.Config, error) {
	for _, c := range s.Configs {
		if c.Target == "/etc/sluice/sluice.yaml" {
			obj, ok := p.Configs[c.Source]
			if !ok || obj.Content == "" {
				return config.Config{}, fmt.Errorf("config %s: no inline content", c.Source)
			}
			return config.Parse(strings.NewReader(obj.Content))
		}
	}
	return config.Load(filepath.Join(repoRoot, "deploy/image/sluice.yaml"))
}

// querierIndexers reads querier.indexers from the querier's configuration
// as written (see rawConfig).
func querierIndexers(p *types.Project, s types.ServiceConfig) ([]string, error) {
	i := slices.IndexFunc(s.Configs, func(c types.ServiceConfigObjConfig) bool { return c.Target == "/etc/sluice/sluice.yaml" })
	if i < 0 {
		return nil, fmt.Errorf("no configuration")
	}
	var raw rawConfig
	if err := yamlUnmarshal(p.Configs[s.Configs[i].Source].Content, &raw); err != nil {
		return nil, err
	}
	for _, u := range raw.Querier.Indexers {
		if _, err := url.Parse(u); err != nil {
			return nil, err
		}
	}
	return raw.Querier.Indexers, nil
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if _, err := strconv.Atoi(port); err != nil {
		return ""
	}
	return port
}

func yamlUnmarshal(s string, v any) error { return yaml.Unmarshal([]byte(s), v) }
