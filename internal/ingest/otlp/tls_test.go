package otlp

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil/testcert"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"google.golang.org/grpc/credentials"
)

func TestSDKGRPCExporterTLS(t *testing.T) {
	tc := testcert.New(t)
	cert, pool := tc.TLS, tc.Pool
	sink := &memSink{}
	srv, err := ListenGRPC("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		sink, DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer serveGRPC(t, srv)()
	exp, err := otlploggrpc.New(context.Background(), otlploggrpc.WithEndpoint(srv.Addr()),
		otlploggrpc.WithTLSCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})))
	if err != nil {
		t.Fatal(err)
	}
	emit(t, exp, 10)
	checkSDKRecords(t, sink, 10)
}
