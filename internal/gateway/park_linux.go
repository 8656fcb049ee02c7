package gateway

import (
	"net"
	"syscall"
)

// parkable returns the raw socket of a TCP connection, so that an idle
// connection can wait for it on a minimal stack; nil where that is not
// possible.
func parkable(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// socketReadable reports whether the socket has data, an end of file or
// an error to read, without consuming anything.
func socketReadable(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR
}
