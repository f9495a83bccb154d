package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/process"
)

// Config is an agent's configuration file (sluice agent --config FILE).
type Config struct {
	StateDir    string           `yaml:"state_dir" doc:"Directory of the checkpoints (checkpoints.json) and the disk buffer (buffer/); it must survive restarts (a hostPath in Kubernetes)."`
	Inputs      []InputConfig    `yaml:"inputs" doc:"What to read: a list of inputs (inputs[].* below)."`
	Output      OutputConfig     `yaml:"output" doc:"Where to send: exactly one of output.forward and output.http."`
	Pipeline    process.Config   `yaml:"pipeline" doc:"A processing pipeline run on every record before it is buffered: processors and tests as in a pipeline file (docs/pipeline.md). route is refused with output.forward (the forward credential decides the tenant)."`
	Buffer      BufferConfig     `yaml:"buffer" doc:"The disk buffer in state_dir between reading and sending."`
	Batch       BatchConfig      `yaml:"batch" doc:"How records are grouped into one buffered batch, one request to the server."`
	Log         config.LogConfig `yaml:"log" doc:"The agent's own log on stderr."`
	MetricsAddr string           `yaml:"metrics_addr" doc:"Address of the agent's own HTTP server: GET /metrics (Prometheus) and GET /healthz. Empty: none."`
}

// InputConfig is one input.
type InputConfig struct {
	Type         string            `yaml:"type" doc:"file (lines of text), docker (Docker's json-file logs, partial lines joined) or cri (containerd/CRI-O logs, partial lines joined)."`
	Paths        []string          `yaml:"paths" doc:"Glob patterns of the files to read (filepath.Match syntax); new files that match are picked up while the agent runs."`
	Exclude      []string          `yaml:"exclude" doc:"Glob patterns of files not to read even if paths match them (e.g. compressed rotations)."`
	Multiline    MultilineConfig   `yaml:"multiline" doc:"Joining lines into one record (stack traces)."`
	Stream       map[string]string `yaml:"stream" doc:"Stream labels every record of this input gets (e.g. {service: billing}); for docker and cri inputs the container's labels (from the path and config.v2.json) are added."`
	StartAt      string            `yaml:"start_at" doc:"Where a file without checkpoint that exists when the agent first starts is read from: beginning or end. Files that appear later are always read from their beginning."`
	RotateWait   config.Duration   `yaml:"rotate_wait" doc:"How long a file that was renamed away or deleted is still read after its last new byte before it is closed (the writer may not have reopened yet)."`
	MaxLineBytes config.ByteSize   `yaml:"max_line_bytes" doc:"A longer line is cut into records of this size (counted in sluice_agent_lines_split_total)."`
}

// MultilineConfig joins lines into records.
type MultilineConfig struct {
	Start        string          `yaml:"start" doc:"A regular expression (RE2): a line that matches opens a record, a line that does not is appended to the open record with a newline. Empty: every line is a record."`
	FlushTimeout config.Duration `yaml:"flush_timeout" doc:"An open record with no new line for this long is sent as it is."`
}

// OutputConfig is where records go.
type OutputConfig struct {
	Forward  string          `yaml:"forward" doc:"host:port of a Sluice forward receiver (or any Fluentd forward v1 server): one PackedForward message per batch, each acknowledged (chunk/ack) before its files' checkpoints move."`
	HTTP     string          `yaml:"http" doc:"Base URL of a Sluice server or gateway: batches are POSTed to its _bulk API (URL/sluice-agent/_bulk); a batch counts as delivered when the answer is 200 (items the server rejected are logged and counted, not retried)."`
	Tag      string          `yaml:"tag" doc:"The forward tag of every event (the stream label tag on a Sluice server)."`
	APIKey   string          `yaml:"api_key" doc:"HTTP only: the key sent as Authorization: Bearer; file:PATH reads it from a file."`
	Timeout  config.Duration `yaml:"timeout" doc:"How long one send (connect, write, acknowledgement) may take before it is retried."`
	RetryMax config.Duration `yaml:"retry_max" doc:"The longest wait between retries of a batch; waits double from 100ms up to this."`
	// MaxConcurrency is output.http's only: the forward output has one
	// connection whose acks come back in order.
	MaxConcurrency int `yaml:"max_concurrency" doc:"HTTP only: the most batches in flight at once, adapted from 1 up to this (AIMD: one more per round trip while round trips stay as fast and the limit is used, 10% fewer on 429, 502, 503, 504, a timeout or a slower round trip), exported as sluice_sink_concurrency{sink=\"http\"}. Checkpoints still move only over batches acknowledged in order, so a crash repeats at most this many batches; batches sent side by side may reach the server out of order (each record keeps its time). 1: one batch at a time. output.forward always sends one at a time."`
}

// BufferConfig bounds the disk buffer.
type BufferConfig struct {
	MaxBytes config.ByteSize `yaml:"max_bytes" doc:"Bytes of batches kept in state_dir/buffer while the server has not acknowledged them; when full the agent stops reading files (backpressure) and drops nothing."`
}

// BatchConfig bounds a batch.
type BatchConfig struct {
	MaxRecords int             `yaml:"max_records" doc:"Records per batch at most."`
	MaxBytes   config.ByteSize `yaml:"max_bytes" doc:"Bytes of message text per batch at most (roughly)."`
	MaxWait    config.Duration `yaml:"max_wait" doc:"How long the first record of a batch waits for more before the batch is written."`
	Poll       config.Duration `yaml:"poll_interval" doc:"How often files are looked for and read when nothing is new."`
}

// Default returns the defaults every option has before the file is read.
func Default() Config {
	return Config{
		StateDir:    "/var/lib/sluice-agent",
		Output:      OutputConfig{Tag: "sluice.agent", Timeout: config.Duration(30 * time.Second), RetryMax: config.Duration(5 * time.Second), MaxConcurrency: 4},
		Buffer:      BufferConfig{MaxBytes: 256 << 20},
		Batch:       BatchConfig{MaxRecords: 5000, MaxBytes: 4 << 20, MaxWait: config.Duration(200 * time.Millisecond), Poll: config.Duration(250 * time.Millisecond)},
		MetricsAddr: "127.0.0.1:9282",
		Log:         config.LogConfig{Level: "info", Format: "text"},
	}
}

// DefaultInput returns an input's defaults.
func DefaultInput() InputConfig {
	return InputConfig{StartAt: "beginning", RotateWait: config.Duration(5 * time.Second), MaxLineBytes: 256 << 10,
		Multiline: MultilineConfig{FlushTimeout: config.Duration(time.Second)}}
}

// UnmarshalYAML gives each input its defaults and refuses unknown keys.
func (in *InputConfig) UnmarshalYAML(n *yaml.Node) error {
	d := DefaultInput()
	type plain InputConfig
	p := (*plain)(&d)
	if err := config.DecodeStrict(n, p); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*in = d
	return nil
}

// Load reads and checks the configuration file at path.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read agent configuration: %w", err)
	}
	c, err := Parse(bytes.NewReader(b))
	if err != nil {
		return Config{}, fmt.Errorf("agent configuration %s: %w", path, err)
	}
	return c, nil
}

// Parse reads a configuration over the defaults and checks it.
func Parse(r io.Reader) (Config, error) {
	c := Default()
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate lists every error of c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.StateDir == "" {
		errs = append(errs, errors.New("state_dir is required"))
	}
	if len(c.Inputs) == 0 {
		errs = append(errs, errors.New("inputs: name at least one input"))
	}
	for i, in := range c.Inputs {
		if _, ok := formats[in.Type]; !ok {
			errs = append(errs, fmt.Errorf("inputs[%d].type %q: want file, docker or cri", i, in.Type))
		}
		if len(in.Paths) == 0 {
			errs = append(errs, fmt.Errorf("inputs[%d].paths: name at least one glob", i))
		}
		for _, p := range append(append([]string(nil), in.Paths...), in.Exclude...) {
			if _, err := filepathMatch(p, ""); err != nil {
				errs = append(errs, fmt.Errorf("inputs[%d]: pattern %q: %w", i, p, err))
			}
		}
		if in.Multiline.Start != "" {
			if _, err := regexp.Compile(in.Multiline.Start); err != nil {
				errs = append(errs, fmt.Errorf("inputs[%d].multiline.start: %w", i, err))
			}
		}
		if in.StartAt != "beginning" && in.StartAt != "end" {
			errs = append(errs, fmt.Errorf("inputs[%d].start_at %q: want beginning or end", i, in.StartAt))
		}
		if in.MaxLineBytes < 64 {
			errs = append(errs, fmt.Errorf("inputs[%d].max_line_bytes: at least 64", i))
		}
		if in.Multiline.FlushTimeout <= 0 || in.RotateWait <= 0 {
			errs = append(errs, fmt.Errorf("inputs[%d]: multiline.flush_timeout and rotate_wait must be positive", i))
		}
	}
	switch {
	case (c.Output.Forward == "") == (c.Output.HTTP == ""):
		errs = append(errs, errors.New("output: set exactly one of forward and http"))
	case c.Output.HTTP != "":
		if u, err := url.Parse(c.Output.HTTP); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("output.http %q: want a URL such as http://sluice:9280", c.Output.HTTP))
		}
	case c.Output.Forward != "":
		if c.Output.APIKey != "" {
			errs = append(errs, errors.New("output.api_key is for output.http; a forward server's tenant comes from its forward.users"))
		}
		if hasRoute(c.Pipeline) {
			errs = append(errs, errors.New("pipeline: route needs output.http (the forward connection's credential decides the tenant); route in the server's pipeline.file instead"))
		}
	}
	if c.Output.MaxConcurrency < 1 {
		errs = append(errs, fmt.Errorf("output.max_concurrency must be at least 1, got %d", c.Output.MaxConcurrency))
	}
	if c.Output.Timeout <= 0 || c.Output.RetryMax <= 0 {
		errs = append(errs, errors.New("output.timeout and output.retry_max must be positive"))
	}
	if c.Buffer.MaxBytes < 1<<20 {
		errs = append(errs, errors.New("buffer.max_bytes: at least 1MiB"))
	}
	if c.Batch.MaxRecords < 1 || c.Batch.MaxBytes < 1024 || c.Batch.MaxWait <= 0 || c.Batch.Poll <= 0 {
		errs = append(errs, errors.New("batch: max_records ≥ 1, max_bytes ≥ 1KiB, max_wait and poll_interval positive"))
	}
	if int64(c.Batch.MaxBytes) > int64(c.Buffer.MaxBytes)/2 {
		errs = append(errs, errors.New("batch.max_bytes: at most half of buffer.max_bytes"))
	}
	if _, err := c.Pipeline.Build(process.Options{}); err != nil {
		errs = append(errs, fmt.Errorf("pipeline: %w", err))
	}
	return errors.Join(errs...)
}

func hasRoute(pc process.Config) bool {
	for _, n := range pc.Processors {
		var t struct {
			Type string `yaml:"type"`
		}
		if n.Decode(&t) == nil && t.Type == "route" {
			return true
		}
	}
	return false
}

// Options lists every option with its default, for docs/agent.md.
func Options() []config.Option {
	c := Default()
	opts := config.OptionsOf(&c, "")
	var out []config.Option
	for _, o := range opts {
		if o.Path == "inputs" {
			out = append(out, o)
			in := DefaultInput()
			out = append(out, config.OptionsOf(&in, "inputs[].")...)
			continue
		}
		// An input's options are listed with DefaultInput's values.
		if strings.HasPrefix(o.Path, "pipeline.") || strings.HasPrefix(o.Path, "inputs[].") {
			continue
		}
		out = append(out, o)
	}
	return out
}
