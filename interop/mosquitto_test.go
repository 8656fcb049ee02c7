package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// mosquittoArgs are the connection options of mosquitto_pub and
// mosquitto_sub for a device: TLS to localhost:8883 trusting the hub's CA,
// MQTT 3.1.1, client ID = device ID, the Azure username and a SAS token
// from tether token generate as the password.
func (h *hub) mosquittoArgs(t *testing.T, device string) []string {
	token := h.tether(t, "token", "generate", "--device", device)
	return []string{"-h", "localhost", "-p", "8883", "--cafile", h.caPEM, "-V", "mqttv311",
		"-i", device, "-u", "localhost/" + device + "/?api-version=2021-04-12", "-P", token, "-q", "1"}
}

// TestMosquitto drives the Eclipse Mosquitto command-line clients, a
// plain MQTT 3.1.1 stack with no Azure code, against tether serve:
// mosquitto_pub sends telemetry (with and without a property bag, read
// back with tether monitor-events), and mosquitto_sub receives a C2D
// message sent with tether c2d send while it is subscribed.
func TestMosquitto(t *testing.T) {
	requireCommand(t, "mosquitto_pub", "mosquitto-clients")
	requireCommand(t, "mosquitto_sub", "mosquitto-clients")
	requireCommand(t, "stdbuf", "coreutils")
	h := startServe(t)
	const id = "mosquitto-1"
	h.tether(t, "device", "create", id)

	t.Run("pub", func(t *testing.T) {
		publish := func(topic, payload string) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append(h.mosquittoArgs(t, id), "-d", "-t", topic, "-m", payload)
			out, err := exec.CommandContext(ctx, "mosquitto_pub", args...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "received PUBACK") {
				t.Fatalf("mosquitto_pub -t %s: %v\n%s\nhub log:\n%s", topic, err, out, h.log)
			}
		}
		publish("devices/"+id+"/messages/events/", `{"from":"mosquitto_pub"}`)
		publish("devices/"+id+"/messages/events/%24.mid=mosq-2&%24.ct=text%2Fplain&source=mosquitto&note=a%20b", "plain text")

		events := h.monitorEvents(t, id, 2)
		first, second := events[0].Event, events[1].Event
		var payload map[string]string
		if err := json.Unmarshal(first.Payload, &payload); err != nil || payload["from"] != "mosquitto_pub" || first.Origin != id {
			t.Errorf("first event: origin %q payload %s, want %q and {\"from\":\"mosquitto_pub\"}", first.Origin, first.Payload, id)
		}
		if len(first.Properties.Application) != 0 {
			t.Errorf("first event has application properties %v, want none", first.Properties.Application)
		}
		var text string
		if err := json.Unmarshal(second.Payload, &text); err != nil || text != "plain text" {
			t.Errorf("second event payload %s, want \"plain text\"", second.Payload)
		}
		sys, app := second.Properties.System, second.Properties.Application
		if sys["message-id"] != "mosq-2" || sys["content-type"] != "text/plain" {
			t.Errorf("second event system properties %v, want message-id mosq-2 and content-type text/plain", sys)
		}
		if app["source"] != "mosquitto" || app["note"] != "a b" || len(app) != 2 {
			t.Errorf("second event application properties %v, want source=mosquitto and note=\"a b\"", app)
		}
	})

	t.Run("sub", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		// -d prints the protocol exchange (so the test knows when the
		// SUBACK came), -v prints "topic payload", -C 1 exits after one
		// message, -W 20 after 20 s without one. mosquitto_sub prints with
		// stdio, block-buffered into a pipe: stdbuf -oL makes it line by
		// line, so that the SUBACK line arrives before the message does.
		args := append([]string{"-oL", "mosquitto_sub"}, h.mosquittoArgs(t, id)...)
		args = append(args, "-d", "-v", "-C", "1", "-W", "20", "-t", "devices/"+id+"/messages/devicebound/#")
		cmd := exec.CommandContext(ctx, "stdbuf", args...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		fail := func(format string, args ...any) {
			t.Helper()
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s\nmosquitto_sub output:\n%s\nhub log:\n%s", fmt.Sprintf(format, args...), out.String(), h.log)
		}
		sc := bufio.NewScanner(stdout)
		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// next returns the next output line, or false at the end.
		next := func() (string, bool) {
			select {
			case l, ok := <-lines:
				if ok {
					out.WriteString(l + "\n")
				}
				return l, ok
			case <-ctx.Done():
				return "", false
			}
		}
		for {
			l, ok := next()
			if !ok {
				fail("mosquitto_sub ended before its SUBACK")
			}
			if strings.Contains(l, "received SUBACK") {
				break
			}
		}

		h.tether(t, "c2d", "send", id, "hello mosquitto", "--message-id", "c2d-mosq", "--property", "color=blue")
		want := "devices/" + id + "/messages/devicebound/"
		var delivered string
		for delivered == "" {
			l, ok := next()
			if !ok {
				fail("mosquitto_sub ended without the C2D message")
			}
			if strings.HasPrefix(l, want) {
				delivered = l
			}
		}
		for _, ok := next(); ok; _, ok = next() {
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("mosquitto_sub: %v\n%s", err, out.String())
		}
		t.Logf("mosquitto_sub received: %s", delivered)
		topic, payload, _ := strings.Cut(delivered, " ")
		if payload != "hello mosquitto" {
			t.Errorf("C2D payload %q, want %q", payload, "hello mosquitto")
		}
		for _, p := range []string{"%24.mid=c2d-mosq", "color=blue"} {
			if !strings.Contains(topic[len(want):], p) {
				t.Errorf("C2D topic %q lacks %q", topic, p)
			}
		}

		// mosquitto_sub's PUBACK completed the message.
		h.waitNoPendingC2D(t, id)
	})
}
