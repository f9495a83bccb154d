package config

import (
	"fmt"
	"time"
)

// PipelineConfig points the server at its processing pipeline.
type PipelineConfig struct {
	File           string   `yaml:"file" doc:"A pipeline file (processors and their tests; docs/pipeline.md) applied by roles all and gateway to every record received, before the write-ahead log: parse, enrich, route to tenants, redact, sample, rate-limit. Its tests run before it is taken, and a file that does not load or whose tests fail stops the start. Empty: records are stored as received."`
	ReloadInterval Duration `yaml:"reload_interval" doc:"How often the file is read for changes, which then apply without a restart; a change that does not load or whose tests fail is logged and counted (sluice_processor_config_reloads_total{result=\"error\"}, sluice_processor_config_loaded 0) and the previous pipeline keeps running."`
}

func defaultPipeline(c *Config) {
	c.Pipeline = PipelineConfig{ReloadInterval: Duration(5 * time.Second)}
}

func (c *Config) validatePipeline() []error {
	if c.Pipeline.File != "" && c.Pipeline.ReloadInterval <= 0 {
		return []error{fmt.Errorf("pipeline.reload_interval must be positive")}
	}
	return nil
}
