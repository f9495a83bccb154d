// Command otelcol is an OpenTelemetry Collector with only what the agent
// comparison needs: the filelog receiver (with file_storage checkpoints),
// the batch processor and the OTLP/HTTP
// exporter (with a persistent queue). It is built from the Go module
// proxy, in this module of its own, so that neither Sluice's go.mod nor
// its CI builds it.
package main

import (
	"log"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
)

func main() {
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: "otelcol", Description: "filelog comparison collector", Version: "v0.165.0"},
		Factories: func() (otelcol.Factories, error) {
			recv := filelogreceiver.NewFactory()
			ba := batchprocessor.NewFactory()
			ex := otlphttpexporter.NewFactory()
			fs := filestorage.NewFactory()
			return otelcol.Factories{
				Receivers:  map[component.Type]receiver.Factory{recv.Type(): recv},
				Processors: map[component.Type]processor.Factory{ba.Type(): ba},
				Exporters:  map[component.Type]exporter.Factory{ex.Type(): ex},
				Extensions: map[component.Type]extension.Factory{fs.Type(): fs},
				Telemetry:  otelconftelemetry.NewFactory(),
			}, nil
		},
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			DefaultScheme:     "file",
			ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory()},
		}},
	}
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		log.Fatal(err)
	}
}
