//go:build !linux

package gateway

import (
	"net"
	"syscall"
)

// parkable returns nil: parking idle connections is implemented on Linux
// only; elsewhere an idle connection waits inside its read.
func parkable(net.Conn) syscall.RawConn { return nil }

func socketReadable(uintptr) bool { return true }
