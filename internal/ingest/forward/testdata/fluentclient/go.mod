// A separate module so that the real client library (and the msgpack code
// generator runtime it needs) stays out of Sluice's own dependencies: tests
// build this program and run it against the forward listener.
module fluentclient

go 1.26

require github.com/fluent/fluent-logger-golang v1.10.2

require (
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/tinylib/msgp v1.3.0 // indirect
)
