//go:build !linux

package connlimit

import "net"

// unread cannot tell on this platform: every idle connection may be shed.
func unread(net.Conn) bool { return false }
