package sas_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

func ExampleParseConnectionString() {
	c, err := sas.ParseConnectionString("HostName=myhub.azure-devices.net;DeviceId=d1;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Kind(), c.HostName, c.DeviceID, c.Key)

	_, err = sas.ParseConnectionString("HostName=myhub.azure-devices.net;DeviceId=d1;SharedAccesKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	fmt.Println(err)
	// Output:
	// device myhub.azure-devices.net d1 REDACTED
	// connection string: unknown key "SharedAccesKey" (did you mean SharedAccessKey?) (known keys: HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, GatewayHostName, x509)
}

func ExampleResourceURI() {
	fmt.Println(sas.ResourceURI("myhub.azure-devices.net", "", ""))
	fmt.Println(sas.ResourceURI("myhub.azure-devices.net", "d1", ""))
	fmt.Println(sas.ResourceURI("myhub.azure-devices.net", "edge-1", "$edgeHub"))
	// Output:
	// myhub.azure-devices.net
	// myhub.azure-devices.net/devices/d1
	// myhub.azure-devices.net/devices/edge-1/modules/$edgeHub
}

func ExampleSign() {
	key := tether.Secret("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	expiry := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

	tok, err := sas.Sign(sas.ResourceURI("localhost", "d1", ""), key, "", expiry)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok)

	// A service token: hub-level, signed with a policy's key.
	tok, _ = sas.Sign("localhost", key, "service", expiry)
	fmt.Println(tok)
	// Output:
	// SharedAccessSignature sr=localhost%2Fdevices%2Fd1&sig=x0%2B%2FNbZHLFpACthc%2FDkRm4wnl7niVFGYHA0cYOqa0CM%3D&se=1795600800
	// SharedAccessSignature sr=localhost&sig=g5A81eYW77ScfXe0CCzy3RmMl3lpk2N4zH6ALQkfGak%3D&skn=service&se=1795600800
}

func ExampleParseToken() {
	p, err := sas.ParseToken("SharedAccessSignature sr=localhost%2Fdevices%2Fd1&sig=x0%2B%2FNbZHLFpACthc%2FDkRm4wnl7niVFGYHA0cYOqa0CM%3D&se=1795600800")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.RawResource, p.Resource, p.Expiry, p.KeyName == "")

	_, err = sas.ParseToken("SharedAccessSignature sr=localhost&sig=x0%2B%2FNbZHLFpACthc%2FDkRm4wnl7niVFGYHA0cYOqa0CM%3D&se=tomorrow")
	fmt.Println(err, errors.Is(err, sas.ErrMalformed))
	// Output:
	// localhost%2Fdevices%2Fd1 localhost/devices/d1 2026-11-25 10:00:00 +0000 UTC true
	// sas: malformed token: se "tomorrow" is not a number of seconds true
}

func ExampleVerify() {
	key := tether.Secret("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	now := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	tok, _ := sas.Sign("localhost/devices/d1", key, "", now.Add(30*time.Minute))

	req := sas.Request{
		Token:  string(tok),
		Now:    now,
		Target: "localhost/devices/d1",
		Need:   tether.DeviceConnect,
		Policy: func(name string) (sas.Credential, error) {
			return sas.Credential{}, fmt.Errorf("%w %q", sas.ErrUnknownPolicy, name)
		},
		Device: func() (sas.Credential, error) {
			return sas.Credential{Name: "d1", PrimaryKey: key}, nil
		},
	}
	p, err := sas.Verify(req)
	fmt.Println(p.Resource, err)

	req.Now = now.Add(40 * time.Minute)
	_, err = sas.Verify(req)
	fmt.Println(err)

	req.Now, req.Target = now, "localhost/devices/d2"
	_, err = sas.Verify(req)
	fmt.Println(err)
	// Output:
	// localhost/devices/d1 <nil>
	// sas: token expired at 2026-11-25T10:00:00Z (server time 2026-11-25T10:10:00Z, allowed clock skew 5m0s)
	// sas: token is for "localhost/devices/d1", not "localhost/devices/d2"
}

func ExampleGenerateKey() {
	// A fixed reader makes the example deterministic; pass nil to use
	// crypto/rand.
	key, err := sas.GenerateKey(bytes.NewReader(make([]byte, 32)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(key.Reveal())
	fmt.Println(key)
	// Output:
	// AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
	// REDACTED
}

func ExampleConnectionString_LogValue() {
	c, _ := sas.ParseConnectionString("HostName=localhost;DeviceId=d1;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	log.Info("connecting", "conn", c)
	// Output:
	// level=INFO msg=connecting conn.HostName=localhost conn.DeviceId=d1 conn.SharedAccessKey=REDACTED
}
