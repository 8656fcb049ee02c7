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
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

// The examples run against a real hub that TestMain starts; these stand
// for what a real device has.
var (
	connectionString string // HostName=localhost;DeviceId=example;SharedAccessKey=…
	hubCA            string // the hub's DATA/tls/ca.pem
	hubAddr          string // 127.0.0.1:PORT instead of localhost:8883
)

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
