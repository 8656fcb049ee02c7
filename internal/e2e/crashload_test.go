package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/wire"
)

// TestCrashUnderLoad kill -9s tether serve while devices publish QoS 1
// telemetry, the API creates devices and queues cloud-to-device messages,
// restarts it on the same data folder, and checks that nothing
// acknowledged was lost: every PUBACKed message is in the telemetry
// stream, every device whose creation was answered is registered, and
// every C2D message whose send was answered is delivered. (Connection-log
// rows and the lifecycle-event outbox across kill -9 are TestCrashRecovery's.)
func TestCrashUnderLoad(t *testing.T) {
	bin := tetherBinary(t)
	dir := t.TempDir()
	p := startServe(t, bin, dir)
	api := p.apiClient(t, bin, dir)
	ctx := context.Background()
	const publishers, sinks = 6, 8
	keys := map[string]tether.Secret{}
	for i := 0; i < publishers; i++ {
		d, err := api.CreateDevice(ctx, wire.Device{DeviceID: fmt.Sprintf("pub-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		keys[d.DeviceID] = primaryKey(d)
	}
	for i := 0; i < sinks; i++ {
		d, err := api.CreateDevice(ctx, wire.Device{DeviceID: fmt.Sprintf("sink-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		keys[d.DeviceID] = primaryKey(d)
	}

	tok := map[string]string{}
	for id, k := range keys {
		tok[id] = signToken(t, "localhost", id, k, time.Now().Add(time.Hour))
	}
	var mu sync.Mutex
	pubacked := map[string]bool{} // telemetry bodies the hub acknowledged
	created := []string{}         // devices whose creation the API answered
	queued := map[string]bool{}   // C2D message ids the API accepted
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < publishers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("pub-%d", i)
			c, err := tryDialTLS(p.mqtt, p.pool)
			if err != nil {
				t.Errorf("%s: %v", id, err)
				return
			}
			defer c.close()
			c.send(connectPacket("localhost", id, tok[id], true, 60))
			if ack, err := c.readPacket(5 * time.Second); err != nil || ack.FixedHeader.Type != packets.Connack || ack.ReasonCode != 0 {
				t.Errorf("%s: CONNACK %+v, %v", id, ack, err)
				return
			}
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf("%s-%d", id, n)
				pid := uint16(n%60000 + 1)
				if c.publish("devices/"+id+"/messages/events/", 1, pid, []byte(`"`+body+`"`)) != nil {
					return
				}
				pk, err := c.readPacket(5 * time.Second)
				if err != nil {
					return // the hub died
				}
				if pk.FixedHeader.Type == packets.Puback && pk.PacketID == pid {
					mu.Lock()
					pubacked[body] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Add(2)
	go func() { // registry writes
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			d, err := api.CreateDevice(rctx, wire.Device{DeviceID: fmt.Sprintf("reg-%d", n)})
			cancel()
			if err != nil {
				return
			}
			mu.Lock()
			created = append(created, d.DeviceID)
			mu.Unlock()
		}
	}()
	go func() { // cloud-to-device sends, round robin over the sinks (50 each at most)
		defer wg.Done()
		for n := 0; n < sinks*50; n++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("c2d-%d", n)
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := api.SendC2D(rctx, fmt.Sprintf("sink-%d", n%sinks), hubclient.C2DSend{Body: []byte(id), MessageID: id, TTL: time.Hour})
			cancel()
			if err != nil {
				return
			}
			mu.Lock()
			queued[id] = true
			mu.Unlock()
		}
	}()
	time.Sleep(3 * time.Second)
	p.kill(t)
	close(stop)
	wg.Wait()
	t.Logf("acknowledged before kill -9: %d telemetry messages, %d device creations, %d C2D sends", len(pubacked), len(created), len(queued))
	if len(pubacked) < 100 || len(created) < 10 || len(queued) < 10 {
		t.Fatalf("too little load to prove anything: %d telemetry, %d creations, %d C2D", len(pubacked), len(created), len(queued))
	}

	p = startServe(t, bin, dir)
	api = p.apiClient(t, bin, dir)
	// Telemetry: every PUBACKed body is in the stream.
	inStream := map[string]bool{}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err := api.Telemetry(rctx, hubclient.TelemetryOptions{ConsumerGroup: "crashcheck", From: "start"}, func(ev wire.TelemetryEvent) error {
		inStream[strings.Trim(string(ev.Event.Payload), `"`)] = true
		return nil
	})
	cancel()
	if err != nil {
		t.Fatalf("read the telemetry stream: %v", err)
	}
	lost := 0
	for body := range pubacked {
		if !inStream[body] {
			lost++
			if lost <= 5 {
				t.Errorf("PUBACKed telemetry %q is not in the stream after kill -9", body)
			}
		}
	}
	// Registry: every answered creation survived (asked one by one: the
	// device list is paged).
	kept := 0
	for _, id := range created {
		if _, err := api.Device(ctx, id); err != nil {
			t.Errorf("device %s was created (200) before kill -9 and is gone: %v", id, err)
			continue
		}
		kept++
	}
	// C2D: every accepted message is delivered to its device.
	got := map[string]bool{}
	for i := 0; i < sinks; i++ {
		id := fmt.Sprintf("sink-%d", i)
		c := dialTLS(t, p.mqtt, p.pool)
		c.mustConnect("localhost", id, signToken(t, "localhost", id, keys[id], time.Now().Add(time.Hour)), true, 60)
		c.subscribe("devices/" + id + "/messages/devicebound/#")
		for {
			pk, err := c.readPacket(2 * time.Second)
			if err != nil {
				break
			}
			if pk.FixedHeader.Type == packets.Publish {
				got[string(pk.Payload)] = true
				c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
			}
		}
		c.close()
	}
	missing := 0
	for id := range queued {
		if !got[id] {
			missing++
			if missing <= 5 {
				t.Errorf("C2D message %s was accepted before kill -9 and never delivered", id)
			}
		}
	}
	t.Logf("after restart: %d/%d PUBACKed messages in the stream (%d in it in all), %d/%d creations kept, %d/%d C2D delivered",
		len(pubacked)-lost, len(pubacked), len(inStream), kept, len(created), len(queued)-missing, len(queued))
}
