package device_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// The examples run against a real hub that TestMain starts; these stand
// for what a real device has.
var (
	connectionString string // HostName=localhost;DeviceId=example;SharedAccessKey=…
	hubCA            string // the hub's DATA/tls/ca.pem
	hubAddr          string // 127.0.0.1:PORT instead of localhost:8883
	backEnd          *hubclient.Client
)

// sendC2D and setDesired do what a back end does, as tether c2d send and
// tether twin update would.
func sendC2D(id, body string) {
	if _, err := backEnd.SendC2D(context.Background(), id, hubclient.C2DSend{Body: []byte(body), MessageID: "c2d-1"}); err != nil {
		log.Fatal(err)
	}
}

func setDesired(id string, desired map[string]any) {
	var p wire.TwinPatch
	p.Properties = &struct {
		Desired  map[string]any `json:"desired,omitempty"`
		Reported map[string]any `json:"reported,omitempty"`
	}{Desired: desired}
	if _, err := backEnd.PatchTwin(context.Background(), id, p, "*"); err != nil {
		log.Fatal(err)
	}
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "device-example-")
	if err != nil {
		log.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir, cfg.MQTTAddr, cfg.HTTPSAddr = dir, "127.0.0.1:0", "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	connectionString, hubCA, hubAddr = exampleDevice(ctx, srv), srv.CAFile(), srv.MQTTAddr().String()
	code := m.Run()
	cancel()
	<-done
	os.RemoveAll(dir)
	os.Exit(code)
}

func exampleDevice(ctx context.Context, srv *server.Server) string {
	owner, err := srv.PolicyConnectionString(ctx, "iothubowner")
	if err != nil {
		log.Fatal(err)
	}
	c := exampleService(owner, srv)
	backEnd = c
	d, err := c.CreateDevice(ctx, wire.Device{DeviceID: "example"})
	if err != nil {
		log.Fatal(err)
	}
	return "HostName=localhost;DeviceId=example;SharedAccessKey=" + *d.Authentication.SymmetricKey.PrimaryKey
}

func ExampleNewFromConnectionString() {
	c, err := device.NewFromConnectionString(connectionString, device.Options{
		CA:   hubCA,   // Tether's DATA/tls/ca.pem; omit for a hub with a public certificate
		Addr: hubAddr, // omit to dial HostName:8883
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err) // a wrong key: device: connect: 401003 IoTHubUnauthorized: CONNACK 5 …
	}
	defer c.Close()
	fmt.Println("connected:", c.Connected())
	// Output: connected: true
}

func ExampleClient_SendEvent() {
	c, _ := device.NewFromConnectionString(connectionString, device.Options{CA: hubCA, Addr: hubAddr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	err := c.SendEvent(ctx, device.Message{
		Payload:     []byte(`{"temperature":21.5}`),
		MessageID:   "msg-1",
		ContentType: "application/json", ContentEncoding: "utf-8",
		Properties: map[string]string{"alert": "false"},
	})
	fmt.Println("acknowledged:", err == nil)
	// Output: acknowledged: true
}

func ExampleClient_GetTwin() {
	c, _ := device.NewFromConnectionString(connectionString, device.Options{CA: hubCA, Addr: hubAddr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.UpdateReported(ctx, map[string]any{"firmware": "1.0.0"}); err != nil {
		log.Fatal(err)
	}
	twin, err := c.GetTwin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("reported firmware:", twin.Reported["firmware"])
	// Output: reported firmware: 1.0.0
}

func ExampleClient_OnMethod() {
	c, _ := device.NewFromConnectionString(connectionString, device.Options{CA: hubCA, Addr: hubAddr})
	c.OnMethod("reboot", func(ctx context.Context, payload json.RawMessage) (int, any, error) {
		var req struct{ DelaySeconds int }
		if err := json.Unmarshal(payload, &req); err != nil {
			return 400, map[string]string{"error": "want {\"delaySeconds\": n}"}, nil
		}
		return 200, map[string]any{"rebootingIn": req.DelaySeconds}, nil
	})
	c.OnC2D(func(m device.Message) { fmt.Printf("C2D %s: %s\n", m.MessageID, m.Payload) })
	c.OnDesired(func(patch map[string]any, version int64) { fmt.Println("desired version", version) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("handlers registered")
	// Output: handlers registered
}

func ExampleOptions_connectionState() {
	c, _ := device.NewFromConnectionString(connectionString, device.Options{
		CA: hubCA, Addr: hubAddr,
		KeepAlive:     60 * time.Second, // below the NAT's idle timeout
		TokenLifetime: time.Hour,        // renewed 15 minutes before expiry
		Retry:         device.RetryPolicy{Max: 30 * time.Second},
		OnConnectionState: func(s device.ConnectionState) {
			// s.Err.Code is a catalog entry: 401003, 404104, …
			if s.Status == device.Connected {
				fmt.Println(s.Explain())
			}
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err)
	}
	c.Close()
	// Output: connected
}

func ExampleRetryPolicy_Delay() {
	p := device.RetryPolicy{NoJitter: true} // jitter off, to print the ceilings
	for attempt := 1; attempt <= 8; attempt++ {
		fmt.Print(p.Delay(attempt, false), " ")
	}
	fmt.Println()
	// Output: 100ms 200ms 400ms 800ms 1.6s 3.2s 6.4s 10s
}

func ExampleNew() {
	cs, err := sas.ParseConnectionString(connectionString)
	if err != nil {
		log.Fatal(err)
	}
	c, err := device.New(device.Options{
		Credentials: cs,
		Transport:   device.MQTT, // or device.MQTTWS: WebSockets on 443
		CA:          hubCA,
		Addr:        hubAddr,
		KeepAlive:   60 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("connected before Open:", c.Connected())
	// Output: connected before Open: false
}

func ExampleClient_Run() {
	c, _ := device.NewFromConnectionString(connectionString, device.Options{
		CA: hubCA, Addr: hubAddr,
		OnConnectionState: func(s device.ConnectionState) { fmt.Println(s.Status) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Run keeps the device connected until ctx ends, then disconnects
	// cleanly; it returns early only on a final error such as a wrong key.
	if err := c.Run(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// connecting
	// connected
	// closed
}

func ExampleClient_OnC2D() {
	c, _ := device.NewFromConnectionString(connectionString, device.Options{CA: hubCA, Addr: hubAddr})
	got := make(chan device.Message, 1)
	c.OnC2D(func(m device.Message) { got <- m })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sendC2D("example", "open the valve") // a back end: tether c2d send example 'open the valve'
	m := <-got
	fmt.Printf("%s: %s\n", m.MessageID, m.Payload)
	// Output: c2d-1: open the valve
}

func ExampleClient_OnDesired() {
	c, _ := device.NewFromConnectionString(connectionString, device.Options{CA: hubCA, Addr: hubAddr})
	got := make(chan map[string]any, 1)
	c.OnDesired(func(patch map[string]any, version int64) { got <- patch })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	setDesired("example", map[string]any{"interval": 30}) // a back end: tether twin update example --desired '{"interval":30}'
	fmt.Println("interval:", (<-got)["interval"])
	// Output: interval: 30
}

func ExampleClient_UpdateReported() {
	c, _ := device.NewFromConnectionString(connectionString, device.Options{CA: hubCA, Addr: hubAddr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// Merged into the reported properties; a nil value deletes one.
	if _, err := c.UpdateReported(ctx, map[string]any{"battery": 87, "obsolete": nil}); err != nil {
		log.Fatal(err)
	}
	twin, _ := c.GetTwin(ctx)
	fmt.Println("battery:", twin.Reported["battery"])
	// Output: battery: 87
}
