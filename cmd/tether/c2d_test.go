package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestC2DSendAndPurge(t *testing.T) {
	h := mustStartStreamsHub(t)
	out := mustRun(t, append(h.args, "c2d", "send", "d1", `{"led":"on"}`, "--property", "prio=high", "--property", "note=a=b, c",
		"--message-id", "m-1", "--correlation-id", "c-1", "--user-id", "ops", "--content-type", "application/json",
		"--content-encoding", "utf-8", "--ttl", "10m", "--ack", "full")...)
	if !strings.HasPrefix(out, "queued message m-1 for d1 (expires ") || !strings.HasSuffix(out, "; 1 waiting for the device)\n") {
		t.Errorf("c2d send printed %q", out)
	}
	m := h.queue.last("d1")
	if string(m.Body) != `{"led":"on"}` || m.MessageID != "m-1" || m.CorrelationID != "c-1" || m.UserID != "ops" ||
		m.ContentType != "application/json" || m.ContentEncoding != "utf-8" || m.Ack != "full" ||
		m.Properties["prio"] != "high" || m.Properties["note"] != "a=b, c" {
		t.Errorf("queued %+v", m)
	}
	if d := m.ExpiryTime.Sub(m.EnqueuedTime); d != 10*time.Minute {
		t.Errorf("--ttl 10m queued a message living %v", d)
	}

	file := filepath.Join(t.TempDir(), "body.bin")
	os.WriteFile(file, []byte{0, 1, 2}, 0o600)
	raw := mustRun(t, append(h.args, "-o", "json", "c2d", "send", "d1", "--body-file", file)...)
	var res struct {
		MessageID    string
		PendingCount int
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil || res.PendingCount != 2 || len(res.MessageID) != 36 {
		t.Errorf("c2d send -o json = %s (%v)", raw, err)
	}
	if m := h.queue.last("d1"); string(m.Body) != "\x00\x01\x02" {
		t.Errorf("--body-file sent %q", m.Body)
	}

	if out := mustRun(t, append(h.args, "c2d", "purge", "d1")...); out != "purged 2 messages from the queue of d1\n" {
		t.Errorf("c2d purge printed %q", out)
	}
	raw = mustRun(t, append(h.args, "-o", "json", "c2d", "purge", "d1")...)
	if !strings.Contains(raw, `"totalMessagesPurged": 0`) || !strings.Contains(raw, `"moduleId": null`) {
		t.Errorf("c2d purge -o json = %s", raw)
	}
	if _, err := run(t, append(h.args, "c2d", "send", "nope", "x")...); tether.ErrorCode(err) != tether.DeviceNotFound {
		t.Errorf("send to an unknown device = %v, want DeviceNotFound", err)
	}
}

func TestC2DUsage(t *testing.T) {
	data := t.TempDir()
	big := filepath.Join(data, "big")
	os.WriteFile(big, make([]byte, tether.MaxC2DBytes+1), 0o600)
	for _, tc := range []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{"send"}, "needs a device ID", true},
		{[]string{"send", "d1", "a", "b"}, "at most one BODY", true},
		{[]string{"send", "d1", "x", "--body-file", big}, "not both", true},
		{[]string{"send", "d1", "--property", "novalue"}, "NAME=VALUE", true},
		{[]string{"send", "d1", "--property", "=v"}, "NAME=VALUE", true},
		{[]string{"send", "d1", "--property", "my prop=v"}, `may not contain " "`, true},
		{[]string{"send", "d1", "--property", "p=a\nb"}, "line breaks", true},
		{[]string{"send", "d1", "--ttl", "500ms"}, "whole seconds", true},
		{[]string{"send", "d1", "--ttl", "49h"}, "from 1s to 48h", true},
		{[]string{"send", "d1", "--ack", "always"}, "none, positive, negative or full", true},
		{[]string{"send", "d1", "--body-file", filepath.Join(data, "missing")}, "missing", false},
		{[]string{"send", "d1", "--body-file", big}, "over 65536 bytes", false},
		{[]string{"purge"}, "needs a device ID", true},
	} {
		_, err := run(t, append([]string{"--data", data, "c2d"}, tc.args...)...)
		var ue usageError
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &ue) != tc.usage {
			t.Errorf("c2d %q = %v, want a (usage: %v) error containing %q", tc.args, err, tc.usage, tc.want)
		}
	}
}

// TestC2DLocalHub sends through the data folder's own API.
func TestC2DLocalHub(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "--data", data, "device", "create", "l1")
	out, err := run(t, "--data", data, "c2d", "send", "l1", "hello", "--ack", "full")
	if err != nil || !strings.Contains(out, "1 waiting") {
		t.Fatalf("c2d send = %q, %v", out, err)
	}
	if out := mustRun(t, "--data", data, "c2d", "purge", "l1"); !strings.Contains(out, "purged 1 message from") {
		t.Errorf("c2d purge printed %q", out)
	}
}
