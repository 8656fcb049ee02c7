package server

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// RunInfo is what a running tether serve writes to DATA/run.json, so that
// local CLI commands on the same data folder can reach it: a command that
// must touch connected devices (a direct method, a desired-property push,
// disabling a device) then goes through the running hub instead of only
// changing the store.
type RunInfo struct {
	PID       int       `json:"pid"`
	HTTPSAddr string    `json:"httpsAddr"` // dialable: an unspecified host becomes 127.0.0.1
	MQTTAddr  string    `json:"mqttAddr"`
	Hostname  string    `json:"hostname"`
	Started   time.Time `json:"started"`
}

func runFile(dataDir string) string { return filepath.Join(dataDir, "run.json") }

// dialable turns a listener address into one a local client can dial.
func dialable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func (s *Server) writeRunFile() error {
	b, err := json.MarshalIndent(RunInfo{PID: os.Getpid(), HTTPSAddr: dialable(s.httpsLn.Addr()), MQTTAddr: dialable(s.mqttLn.Addr()),
		Hostname: s.cfg.Hostname, Started: s.started.UTC()}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(runFile(s.cfg.DataDir), append(b, '\n'), 0o600)
}

func (s *Server) removeRunFile() { os.Remove(runFile(s.cfg.DataDir)) }

// Running returns the running hub of a data folder, if its process is
// still alive.
func Running(dataDir string) (RunInfo, bool) {
	var ri RunInfo
	b, err := os.ReadFile(runFile(dataDir))
	if err != nil || json.Unmarshal(b, &ri) != nil || ri.PID <= 0 {
		return ri, false
	}
	if err := syscall.Kill(ri.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return ri, false
	}
	return ri, true
}
