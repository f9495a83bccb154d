package connlimit

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// unread reports whether bytes the client sent wait in c's socket, not
// yet read by the server (SIOCINQ); false when it cannot tell.
func unread(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	if err := rc.Control(func(fd uintptr) {
		n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	}); err != nil {
		return false
	}
	return n > 0
}
