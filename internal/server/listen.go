package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// listen binds addr and turns the common failures into advice.
func listen(flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	return nil, listenAdvice(flag, addr, err)
}

// listenAdvice turns a listen error into advice.
func listenAdvice(flag, addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s %s: the port is already in use, probably by another tether serve or web server; stop it (see 'ss -ltnp') or choose another port with %s", flag, addr, flag)
	case errors.Is(err, syscall.EACCES), errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%s %s: permission denied: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability; run 'sudo setcap cap_net_bind_service=+ep <path to tether>' or choose a port above 1023 with %s (the Azure service SDKs always dial 443)", flag, addr, flag)
	}
	return fmt.Errorf("%s %s: %w", flag, addr, err)
}
