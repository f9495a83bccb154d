// Package connlimit bounds the connections of a listener (HTTP, forward,
// syslog, OTLP gRPC) and divides the process's file descriptors among the
// listeners and the store. At its bound a listener makes room for a new
// connection by closing the one idle the longest, passing over those whose
// client's bytes still wait unread in the socket, so that connections
// that hold a slot without sending anything whole (slowloris) cannot lock
// out a client that sends requests. It knows nothing of the protocols:
// their servers tell it when a connection is idle or busy.
package connlimit
