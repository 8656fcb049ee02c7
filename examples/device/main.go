// Command device is a small device built on Tether's Go device SDK: it
// connects with a device connection string, reports its state changes as
// the SDK explains them, sends a telemetry message every few seconds,
// answers the direct method "echo", prints cloud-to-device messages and
// desired-property changes, and stops cleanly on Ctrl-C.
//
//	go run ./examples/device --connection-string "$(tether device connection-string dev-1)" \
//	    --ca tether-data/tls/ca.pem [--addr 127.0.0.1:18883] [--transport mqttws]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/tether-iot/tether/device"
)

func main() {
	cs := flag.String("connection-string", os.Getenv("DEVICE_CONNECTION_STRING"), "the device's connection string")
	ca := flag.String("ca", "", "PEM file of the hub's CA (Tether: DATA/tls/ca.pem)")
	addr := flag.String("addr", "", "host:port to dial instead of HostName:8883")
	transport := flag.String("transport", "mqtt", "mqtt or mqttws")
	every := flag.Duration("every", 5*time.Second, "telemetry interval")
	flag.Parse()

	c, err := device.NewFromConnectionString(*cs, device.Options{
		CA: *ca, Addr: *addr, Transport: device.Transport(*transport),
		OnConnectionState: func(s device.ConnectionState) { log.Print(s.Explain()) },
	})
	if err != nil {
		log.Fatal(err)
	}
	c.OnMethod("echo", func(_ context.Context, p json.RawMessage) (int, any, error) { return 200, p, nil })
	c.OnC2D(func(m device.Message) { log.Printf("C2D %s: %s %v", m.MessageID, m.Payload, m.Properties) })
	c.OnDesired(func(patch map[string]any, v int64) { log.Printf("desired (version %d): %v", v, patch) })

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.UpdateReported(ctx, map[string]any{"startedAt": time.Now().UTC().Format(time.RFC3339)}); err != nil {
		log.Print(err)
	}
	t := time.NewTicker(*every)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			body := fmt.Sprintf(`{"n":%d,"temperature":%.1f}`, n, 20+float64(n%10)/2)
			err := c.SendEvent(ctx, device.Message{Payload: []byte(body), MessageID: fmt.Sprint(n), ContentType: "application/json", ContentEncoding: "utf-8"})
			if err != nil && ctx.Err() == nil {
				log.Print(err)
			}
		}
	}
}
