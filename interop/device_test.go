package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// deviceSteps are the steps device.js reports, in order, for each transport.
var deviceSteps = []string{
	"open", "register-handlers", "telemetry", "method", "reported", "desired", "c2d",
	"renewal", "method-after-renewal", "reported-after-renewal", "desired-after-renewal", "c2d-after-renewal",
	"takeover", "wrong-key", "disabled",
}

// TestDeviceSDK runs the official azure-iot-device client over Mqtt
// (mqtts on 8883) and MqttWs (wss on 443) against tether serve: open with
// a custom CA, telemetry with properties (read back with tether
// monitor-events), a direct method invoked by the service SDK, reported
// and desired properties, C2D (sent through the hub's API, then no message
// left pending), a forced SAS renewal after which methods, twin and C2D
// still work, session takeover, and the refusals of a wrong key (CONNACK 5)
// and of a disabled device (CONNACK 3).
func TestDeviceSDK(t *testing.T) {
	requireNode(t)
	h := startServe(t)
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	h.tether(t, "device", "create", "interop-disabled", "--status", "disabled", "--status-reason", "interop test")
	disabledCS := h.tether(t, "device", "connection-string", "interop-disabled")

	for _, transport := range []string{"Mqtt", "MqttWs"} {
		t.Run(transport, func(t *testing.T) {
			id := "interop-" + strings.ToLower(transport)
			h.tether(t, "device", "create", id)
			cs := h.tether(t, "device", "connection-string", id)

			out := h.nodeSession(t, 2*time.Minute, "device.js", map[string]func(json.RawMessage) error{
				"c2d": h.sendC2D,
			}, "TRANSPORT="+transport, "DEVICE_CONNECTION_STRING="+cs, "DISABLED_CONNECTION_STRING="+disabledCS,
				"CA_FILE="+h.caPEM, "RUN_ID="+runID)
			for _, step := range deviceSteps {
				if !strings.Contains(out, "ok "+transport+" "+step+"\n") {
					t.Errorf("device.js did not report step %q ok over %s", step, transport)
				}
			}

			// All ten telemetry messages, with their properties, as the
			// hub's telemetry stream gives them to tether monitor-events.
			events := h.monitorEvents(t, id, 10)
			seen := map[string]bool{}
			for _, ev := range events {
				sys, app := ev.Event.Properties.System, ev.Event.Properties.Application
				mid := fmt.Sprint(sys["message-id"])
				seen[mid] = true
				seq, _ := app["seq"].(string)
				wantMid := runID + "-" + transport + "-" + seq
				if ev.Event.Origin != id || mid != wantMid {
					t.Errorf("event from %q with message-id %q, want %q from %q: %+v", ev.Event.Origin, mid, wantMid, id, ev.Event)
					continue
				}
				if sys["content-type"] != "application/json" || sys["content-encoding"] != "utf-8" {
					t.Errorf("event %s: system properties %v, want content-type application/json and content-encoding utf-8", mid, sys)
				}
				if app["transport"] != transport || app["needs encoding"] != "a&b=c/d?é" {
					t.Errorf("event %s: application properties %v, want transport=%s and \"needs encoding\"=\"a&b=c/d?é\"", mid, app, transport)
				}
				var payload struct {
					Seq int    `json:"seq"`
					Run string `json:"run"`
				}
				if err := json.Unmarshal(ev.Event.Payload, &payload); err != nil || strconv.Itoa(payload.Seq) != seq || payload.Run != runID {
					t.Errorf("event %s: payload %s, want {\"seq\":%s,\"run\":%q}", mid, ev.Event.Payload, seq, runID)
				}
			}
			for i := 0; i < 10; i++ {
				if mid := runID + "-" + transport + "-" + strconv.Itoa(i); !seen[mid] {
					t.Errorf("telemetry message %s missing from monitor-events", mid)
				}
			}

			// Both C2D messages were completed: nothing waits for the device.
			h.waitNoPendingC2D(t, id)
			if t.Failed() {
				t.Logf("device.js output:\n%s\nhub log:\n%s", out, h.log)
			}
		})
	}
}

// tether runs the CLI against the running hub in remote mode (its HTTPS
// API, signed with the iothubowner policy) and returns its trimmed
// standard output.
func (h *hub) tether(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tetherBin, append([]string{"--connection-string", h.owner, "--ca", h.caPEM}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tether %s: %v\nstdout:\n%s\nstderr:\n%s\nhub log:\n%s", strings.Join(args, " "), err, out, stderr.String(), h.log)
	}
	return strings.TrimSpace(string(out))
}

// telemetryEvent is one line of tether monitor-events -o json --properties.
type telemetryEvent struct {
	Event struct {
		Origin     string          `json:"origin"`
		Payload    json.RawMessage `json:"payload"`
		Properties struct {
			System      map[string]any `json:"system"`
			Application map[string]any `json:"application"`
		} `json:"properties"`
	} `json:"event"`
}

// monitorEvents reads a device's first count telemetry events through
// tether monitor-events, failing if fewer arrive within 20 seconds.
func (h *hub) monitorEvents(t *testing.T, device string, count int) []telemetryEvent {
	t.Helper()
	out := h.tether(t, "monitor-events", "--from", "start", "--device", device, "--properties",
		"--count", strconv.Itoa(count), "--timeout", "20s", "-o", "json")
	var events []telemetryEvent
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var ev telemetryEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("monitor-events line is not JSON: %v\n%s", err, line)
		}
		events = append(events, ev)
	}
	if len(events) != count {
		t.Fatalf("monitor-events gave %d events for %s, want %d:\n%s", len(events), device, count, out)
	}
	return events
}

// waitNoPendingC2D waits up to 10 seconds for the device's
// cloudToDeviceMessageCount (tether device show -o json) to be 0.
func (h *hub) waitNoPendingC2D(t *testing.T, device string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var dev struct {
			CloudToDeviceMessageCount *int `json:"cloudToDeviceMessageCount"`
		}
		show := h.tether(t, "device", "show", device, "-o", "json")
		if err := json.Unmarshal([]byte(show), &dev); err != nil || dev.CloudToDeviceMessageCount == nil {
			t.Fatalf("tether device show -o json: no cloudToDeviceMessageCount (%v)\n%s", err, show)
		}
		if *dev.CloudToDeviceMessageCount == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("cloudToDeviceMessageCount of %s is still %d 10s after the device acknowledged its messages, want 0\nhub log:\n%s",
				device, *dev.CloudToDeviceMessageCount, h.log)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// c2dRequest is what device.js asks the Go side to send.
type c2dRequest struct {
	DeviceID      string            `json:"deviceId"`
	MessageID     string            `json:"messageId"`
	CorrelationID string            `json:"correlationId"`
	Body          string            `json:"body"`
	Properties    map[string]string `json:"properties"`
}

// sendC2D queues a cloud-to-device message through the hub's API:
// POST /devices/{id}/messages/deviceBound, properties in headers.
func (h *hub) sendC2D(raw json.RawMessage) error {
	var r c2dRequest
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	return h.postC2D(r)
}

func (h *hub) postC2D(r c2dRequest) error {
	token, err := h.policyToken()
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", "https://localhost:443/devices/"+r.DeviceID+"/messages/deviceBound?api-version=2021-04-12", strings.NewReader(r.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("iothub-messageid", r.MessageID)
	if r.CorrelationID != "" {
		req.Header.Set("iothub-correlationid", r.CorrelationID)
	}
	names := make([]string, 0, len(r.Properties))
	for k := range r.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		req.Header.Set("iothub-app-"+k, r.Properties[k])
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST deviceBound: %s: %s", resp.Status, body)
	}
	return nil
}

// policyToken signs an iothubowner SAS token with tether token generate.
func (h *hub) policyToken() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tetherBin, "--data", h.data, "token", "generate", "--policy", "iothubowner").Output()
	if err != nil {
		return "", fmt.Errorf("tether token generate --policy iothubowner: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// nodeSession runs a script of this folder that may ask the test for
// help: a stdout line "need <action> <json>" runs actions[action] with the
// JSON and answers "done" (or "fail <error>") on the script's stdin. It
// fails the test unless the script exits 0 within the timeout, and returns
// the script's whole output.
func (h *hub) nodeSession(t *testing.T, timeout time.Duration, script string, actions map[string]func(json.RawMessage) error, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(), append(env, "NODE_EXTRA_CA_CERTS="+h.caPEM, "CONNECTION_STRING="+h.owner)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var output strings.Builder
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		output.WriteString(s)
	}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { record(string(p)); return len(p), nil })
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", script, err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		record(line + "\n")
		t.Log(line)
		rest, ok := strings.CutPrefix(line, "need ")
		if !ok {
			continue
		}
		action, args, _ := strings.Cut(rest, " ")
		answer := "done"
		if f := actions[action]; f == nil {
			answer = "fail the Go test has no action " + strconv.Quote(action)
		} else if err := f(json.RawMessage(args)); err != nil {
			answer = "fail " + strings.ReplaceAll(err.Error(), "\n", " ")
		}
		if answer != "done" {
			record("(go) " + action + ": " + answer + "\n")
		}
		io.WriteString(stdin, answer+"\n")
	}
	err = cmd.Wait()
	out := func() string { mu.Lock(); defer mu.Unlock(); return output.String() }()
	if err != nil {
		t.Fatalf("node %s: %v (timeout %v)\noutput:\n%s\nhub log:\n%s", script, err, timeout, out, h.log)
	}
	return out
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
