package deploy

import (
	"bytes"
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"golang.org/x/mod/modfile"

	"github.com/sluice-log/sluice/internal/config"
)

// The repository root, where `docker build .` runs.
const repoRoot = ".."

// dockerfile is the repository's Dockerfile parsed by BuildKit's own
// parser, as `docker build` parses it: stages, their instructions, and the
// global ARGs.
type dockerfile struct {
	stages   []instructions.Stage
	metaArgs map[string]string
	warnings []string
}

func readDockerfile(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseDockerfile(content []byte) (dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(content))
	if err != nil {
		return dockerfile{}, fmt.Errorf("parse Dockerfile: %w", err)
	}
	var d dockerfile
	for _, w := range res.Warnings {
		d.warnings = append(d.warnings, w.Short)
	}
	// BuildKit's build checks (the rules `docker build --check` runs).
	lint := linter.New(&linter.Config{Warn: func(rule, desc, url, msg string, _ []parser.Range) {
		d.warnings = append(d.warnings, rule+": "+msg)
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return dockerfile{}, fmt.Errorf("Dockerfile instructions: %w", err)
	}
	d.stages = stages
	d.metaArgs = map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			d.metaArgs[kv.Key] = kv.ValueString()
		}
	}
	return d, nil
}

func (d dockerfile) stage(name string) *instructions.Stage {
	for i := range d.stages {
		if d.stages[i].Name == name {
			return &d.stages[i]
		}
	}
	return nil
}

// commandsOf returns a stage's instructions of type T.
func commandsOf[T instructions.Command](s *instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// env is an EnvGetter over a map, for BuildKit's shell lexer.
type env map[string]string

func (e env) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e env) Keys() []string {
	var keys []string
	for k := range e {
		keys = append(keys, k)
	}
	return keys
}

// TestDockerfile checks the image's shape statically: a Go build stage on
// the toolchain go.mod asks for, a final distroless stage running as 65532
// with `sluice healthcheck` as its probe, the paths, ports and volume the
// image's configuration uses. No container runtime runs here, so the image
// itself is never built; TestDockerfileBuild runs its go build command.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.ParseLax("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(repoRoot, "deploy/image/sluice.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range checkDockerfile(readDockerfile(t), mod.Go.Version, cfg) {
		t.Error(e)
	}
}

// checkDockerfile returns what is wrong with a Dockerfile, given go.mod's
// Go version and the image's configuration file.
func checkDockerfile(content []byte, goVersion string, cfg config.Config) []string {
	var errs []string
	errorf := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	d, err := parseDockerfile(content)
	if err != nil {
		return []string{err.Error()}
	}
	for _, w := range d.warnings {
		errorf("Dockerfile: %s", w)
	}
	build := d.stage("build")
	if len(d.stages) != 2 || build == nil {
		return append(errs, fmt.Sprintf("%d stages, want one named build and the final image", len(d.stages)))
	}
	final := &d.stages[1]

	// The Go toolchain: the golang image does not fetch a newer one
	// (GOTOOLCHAIN=local), so it must be the version go.mod requires.
	if build.BaseName != "golang:${GO_VERSION}" || d.metaArgs["GO_VERSION"] != goVersion {
		errorf("build stage FROM %s with GO_VERSION=%s; want golang:${GO_VERSION} with go.mod's %s", build.BaseName, d.metaArgs["GO_VERSION"], goVersion)
	}

	// The final image: distroless static, the unprivileged user.
	if final.BaseName != "gcr.io/distroless/static-debian12:nonroot" {
		errorf("final stage FROM %s, want distroless static nonroot", final.BaseName)
	}
	users := commandsOf[*instructions.UserCommand](final)
	if len(users) != 1 || users[0].User != "65532:65532" {
		errorf("final stage USER %v, want 65532:65532", users)
	}

	// What it copies: the binary from the build stage's go build output,
	// the data directory owned by 65532, the configuration.
	copies := map[string]*instructions.CopyCommand{}
	for _, c := range commandsOf[*instructions.CopyCommand](final) {
		copies[c.DestPath] = c
	}
	bin, data, conf := copies["/usr/local/bin/sluice"], copies["/var/lib/sluice"], copies["/etc/sluice/sluice.yaml"]
	output := ""
	if _, args, err := buildCommand(build); err != nil {
		errorf("%v", err)
	} else if i := slices.Index(args, "-o"); i >= 0 && i+1 < len(args) {
		output = args[i+1]
	}
	if bin == nil || bin.From != "build" || !slices.Equal(bin.SourcePaths, []string{output}) {
		errorf("the binary is not copied from the build stage's go build output to /usr/local/bin/sluice")
	}
	if data == nil || data.From != "build" || data.Chown != "65532:65532" {
		errorf("the data directory /var/lib/sluice is not created owned by 65532")
	}
	if conf == nil || conf.From != "" || !slices.Equal(conf.SourcePaths, []string{"deploy/image/sluice.yaml"}) {
		errorf("the configuration is not deploy/image/sluice.yaml at /etc/sluice/sluice.yaml")
	}

	// The configuration it runs with and probes with.
	entry := commandsOf[*instructions.EntrypointCommand](final)
	cmd := commandsOf[*instructions.CmdCommand](final)
	health := commandsOf[*instructions.HealthCheckCommand](final)
	if len(entry) != 1 || !slices.Equal(entry[0].CmdLine, []string{"/usr/local/bin/sluice"}) || entry[0].PrependShell {
		errorf("ENTRYPOINT %v, want [\"/usr/local/bin/sluice\"] (exec form: there is no shell)", entry)
	}
	if len(cmd) != 1 || !slices.Equal(cmd[0].CmdLine, []string{"serve", "--config", "/etc/sluice/sluice.yaml"}) {
		errorf("CMD %v, want serve --config /etc/sluice/sluice.yaml", cmd)
	}
	if len(health) != 1 || !slices.Equal(health[0].Health.Test, []string{"CMD", "/usr/local/bin/sluice", "healthcheck", "--config", "/etc/sluice/sluice.yaml"}) {
		errorf("HEALTHCHECK %v, want CMD sluice healthcheck --config /etc/sluice/sluice.yaml (exec form)", health)
	}
	volumes := commandsOf[*instructions.VolumeCommand](final)
	if cfg.DataDir != "/var/lib/sluice" || len(volumes) != 1 || !slices.Equal(volumes[0].Volumes, []string{cfg.DataDir}) {
		errorf("data_dir %s, VOLUME %v: want both /var/lib/sluice", cfg.DataDir, volumes)
	}

	// Every listener on every interface, each port EXPOSEd.
	var exposed []string
	for _, e := range commandsOf[*instructions.ExposeCommand](final) {
		exposed = append(exposed, e.Ports...)
	}
	for option, l := range map[string]struct{ addr, proto string }{
		"http.addr": {cfg.HTTP.Addr, "tcp"}, "forward.addr": {cfg.Forward.Addr, "tcp"}, "forward.addr (heartbeat)": {cfg.Forward.Addr, "udp"},
		"syslog.udp_addr": {cfg.Syslog.UDPAddr, "udp"}, "syslog.tcp_addr": {cfg.Syslog.TCPAddr, "tcp"},
		"syslog.tls_addr": {cfg.Syslog.TLSAddr, "tcp"}, "otlp.grpc_addr": {cfg.OTLP.GRPCAddr, "tcp"},
	} {
		host, port, ok := strings.Cut(l.addr, ":")
		if !ok || host != "" {
			errorf("%s %q: want :PORT (every interface: loopback is the container's own)", option, l.addr)
		}
		want := port
		if l.proto == "udp" {
			want += "/udp"
		}
		if !slices.Contains(exposed, want) {
			errorf("%s listens on %s/%s, which is not EXPOSEd (%v)", option, port, l.proto, exposed)
		}
	}
	return errs
}

// TestDockerfileChecksCatch breaks the Dockerfile one way at a time and
// expects checkDockerfile to say so.
func TestDockerfileChecksCatch(t *testing.T) {
	good := string(readDockerfile(t))
	cfg, err := config.Load(filepath.Join(repoRoot, "deploy/image/sluice.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const goVersion = "1.26.8"
	expectCaught(t, good, []breakage{
		{"USER 65532:65532", "USER root", "USER"},
		{"FROM gcr.io/distroless/static-debian12:nonroot", "FROM alpine:3", "want distroless"},
		{`CMD ["/usr/local/bin/sluice", "healthcheck", "--config", "/etc/sluice/sluice.yaml"]`, `CMD ["wget", "-qO-", "http://localhost:9280/readyz"]`, "HEALTHCHECK"},
		{"ARG GO_VERSION=" + goVersion, "ARG GO_VERSION=1.25", "GO_VERSION=1.25"},
		{" 5514/udp", "", "syslog.udp_addr listens on 5514/udp, which is not EXPOSEd"},
		{"-o /out/sluice", "-o /out/sluicey", "not copied from the build stage's go build output"},
		{"--chown=65532:65532 ", "", "owned by 65532"},
		{`ENTRYPOINT ["/usr/local/bin/sluice"]`, `ENTRYPOINT /usr/local/bin/sluice`, "ENTRYPOINT"},
		{" AS build", " as build", "FromAsCasing"},
		{"    go build -trimpath", "    go install -trimpath", "no RUN [VAR=value …] go build"},
	}, func(broken string) []string { return checkDockerfile([]byte(broken), goVersion, cfg) })
	if errs := checkDockerfile([]byte(good), goVersion, cfg); len(errs) > 0 {
		t.Errorf("the Dockerfile itself: %q", errs)
	}
}

// buildCommand returns the build stage's go build command: the environment
// it sets and the arguments after `go build`, expanded as BuildKit's shell
// would with the stage's ARGs (TARGETOS/TARGETARCH for this machine).
func buildCommand(build *instructions.Stage) (environ, args []string, err error) {
	vars := env{"TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH}
	for _, a := range commandsOf[*instructions.ArgCommand](build) {
		for _, kv := range a.Args {
			if kv.Value != nil {
				vars[kv.Key] = *kv.Value
			}
		}
	}
	var found []string
	for _, r := range commandsOf[*instructions.RunCommand](build) {
		if r.PrependShell && len(r.CmdLine) == 1 && strings.Contains(r.CmdLine[0], "go build") {
			if found, err = shell.NewLex('\\').ProcessWords(r.CmdLine[0], vars); err != nil {
				return nil, nil, fmt.Errorf("go build command: %w", err)
			}
		}
	}
	i := slices.Index(found, "go")
	if i < 0 || i+1 >= len(found) || found[i+1] != "build" || !slices.Contains(found, "-o") {
		return nil, nil, fmt.Errorf("no RUN [VAR=value …] go build … -o FILE … in the build stage")
	}
	for _, w := range found[:i] {
		if !strings.Contains(w, "=") {
			return nil, nil, fmt.Errorf("go build command: %q before go is not VAR=value", w)
		}
	}
	return found[:i], found[i+2:], nil
}

// TestDockerfileBuildCommand runs the Dockerfile's go build command here
// with -n, as the build stage would run it (same environment and flags, its
// -o moved to a temporary file): Go resolves every package and plans every
// compile and the link under CGO_ENABLED=0 for the target platform, which
// fails if any package needed cgo. With cgo off the Go linker writes a
// static executable, which distroless/static (no C library) can run. The
// compile itself is not run: with -trimpath and cgo off it shares nothing
// with the test builds' cache and would rebuild every dependency (minutes
// of CPU on a cold CI machine); the e2e tests run the binary built from
// the same sources.
func TestDockerfileBuildCommand(t *testing.T) {
	d, err := parseDockerfile(readDockerfile(t))
	if err != nil {
		t.Fatal(err)
	}
	build := d.stage("build")
	if build == nil {
		t.Fatal("no stage named build")
	}
	environ, args, err := buildCommand(build)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=" + runtime.GOOS, "GOARCH=" + runtime.GOARCH} {
		if !slices.Contains(environ, want) {
			t.Errorf("go build without %s (CGO_ENABLED=0 makes the binary static; GOOS/GOARCH from TARGETOS/TARGETARCH cross-compile)", want)
		}
	}
	if !slices.Contains(args, "-trimpath") || args[len(args)-1] != "./cmd/sluice" {
		t.Errorf("go build %q: want -trimpath and the package ./cmd/sluice last", args)
	}
	// -X of a variable that does not exist is silently ignored by the
	// linker: check that the version stamp lands.
	var ldflags string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "-ldflags="); ok {
			ldflags = v
		}
	}
	if !strings.Contains(ldflags, "-X main.version=dev") || !declaresVersion(t) {
		t.Errorf("-ldflags %q: want -X main.version=${VERSION} (default dev) stamping cmd/sluice's version variable", ldflags)
	}
	out := filepath.Join(t.TempDir(), "sluice")
	args[slices.Index(args, "-o")+1] = out
	cmd := exec.Command("go", append([]string{"build", "-n"}, args...)...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), environ...)
	plan, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build -n %s: %v\n%s", strings.Join(args, " "), err, plan)
	}
	// The plan ends with the link of the binary, and runs no C compiler.
	if !bytes.Contains(plan, []byte("/link ")) || !bytes.Contains(plan, []byte(out)) {
		t.Errorf("go build -n planned no link of %s", out)
	}
	if c := cgoStep.Find(plan); c != nil || bytes.Contains(plan, []byte("-linkmode=external")) {
		t.Errorf("go build -n runs %q: cgo, a C compiler or an external link would make the binary dynamic", c)
	}
}

// cgoStep matches a step of go build -n that runs cgo or a C compiler (the
// link's -extld=gcc names the external linker it does not use).
var cgoStep = regexp.MustCompile(`(?m)^\S*(/cgo|gcc|clang|\bcc) `)

// declaresVersion reports whether package main of cmd/sluice has a
// package-level string variable named version.
func declaresVersion(t *testing.T) bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(repoRoot, "cmd/sluice/*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, goparser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if n.Name == "version" {
						return true
					}
				}
			}
		}
	}
	return false
}

// TestDockerignore checks that `docker build .` sends what the build
// needs: go.mod, every package of the binary, the image's configuration.
func TestDockerignore(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-C", repoRoot, "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./cmd/sluice").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	need := []string{"go.mod", "go.sum", "deploy/image/sluice.yaml", "internal/ui/dist/index.html"}
	for _, dir := range strings.Fields(string(out)) {
		if rel, err := filepath.Rel(root, dir); err == nil && !strings.HasPrefix(rel, "..") {
			need = append(need, filepath.ToSlash(rel)+"/x.go")
		}
	}
	for _, p := range need {
		if excluded, err := pm.MatchesOrParentMatches(p); err != nil || excluded {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
	for _, p := range []string{".git/HEAD", "bin/sluice", "web/node_modules/x", "deploy/helm/sluice/Chart.yaml"} {
		if excluded, _ := pm.MatchesOrParentMatches(p); !excluded {
			t.Errorf(".dockerignore sends %s", p)
		}
	}
	if len(need) < 10 {
		t.Errorf("only %d paths checked: go list found too few packages", len(need))
	}
}
