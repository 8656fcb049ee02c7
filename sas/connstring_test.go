package sas

import (
	"errors"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
)

const (
	testKey  = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // 32 bytes 0x00..0x1f
	testKey2 = "dGV0aGVyLXNhcy10ZXN0IQ=="                     // 16 bytes "tether-sas-test!"
	testSig  = "SharedAccessSignature sr=localhost%2Fdevices%2Fd1&sig=x0%2B%2FNbZHLFpACthc%2FDkRm4wnl7niVFGYHA0cYOqa0CM%3D&se=1795600800"
)

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ConnectionString
		kind Kind
	}{
		{"device", "HostName=localhost;DeviceId=d1;SharedAccessKey=" + testKey,
			ConnectionString{HostName: "localhost", DeviceID: "d1", Key: testKey}, KindDevice},
		{"keys any case", "hostname=localhost;DEVICEID=d1;sharedaccesskey=" + testKey,
			ConnectionString{HostName: "localhost", DeviceID: "d1", Key: testKey}, KindDevice},
		{"keys in any order, trailing ;", "SharedAccessKey=" + testKey2 + ";DeviceId=d1;HostName=h.example;",
			ConnectionString{HostName: "h.example", DeviceID: "d1", Key: testKey2}, KindDevice},
		{"empty parts and white space", "  ;HostName=h;;DeviceId=d1; SharedAccessKey=" + testKey + ";\n",
			ConnectionString{HostName: "h", DeviceID: "d1", Key: testKey}, KindDevice},
		{"port", "HostName=localhost:8883;DeviceId=d1;SharedAccessKey=" + testKey,
			ConnectionString{HostName: "localhost:8883", DeviceID: "d1", Key: testKey}, KindDevice},
		{"module", "HostName=h;DeviceId=edge-1;ModuleId=$edgeHub;SharedAccessKey=" + testKey,
			ConnectionString{HostName: "h", DeviceID: "edge-1", ModuleID: "$edgeHub", Key: testKey}, KindModule},
		{"x509", "HostName=h;DeviceId=d1;x509=true",
			ConnectionString{HostName: "h", DeviceID: "d1", X509: true}, KindDevice},
		{"X509=TRUE", "HostName=h;DeviceId=d1;X509=TRUE",
			ConnectionString{HostName: "h", DeviceID: "d1", X509: true}, KindDevice},
		{"x509=false with key", "HostName=h;DeviceId=d1;x509=false;SharedAccessKey=" + testKey,
			ConnectionString{HostName: "h", DeviceID: "d1", Key: testKey}, KindDevice},
		{"signature", "HostName=localhost;DeviceId=d1;SharedAccessSignature=" + testSig,
			ConnectionString{HostName: "localhost", DeviceID: "d1", Signature: testSig}, KindDevice},
		{"gateway", "HostName=h;DeviceId=d1;SharedAccessKey=" + testKey + ";GatewayHostName=edge.local",
			ConnectionString{HostName: "h", DeviceID: "d1", Key: testKey, GatewayHostName: "edge.local"}, KindDevice},
		{"device with policy key", "HostName=h;DeviceId=d1;SharedAccessKeyName=device;SharedAccessKey=" + testKey,
			ConnectionString{HostName: "h", DeviceID: "d1", KeyName: "device", Key: testKey}, KindDevice},
		{"policy", "HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey=" + testKey,
			ConnectionString{HostName: "h", KeyName: "iothubowner", Key: testKey}, KindPolicy},
		{"device ID with punctuation", "HostName=h;DeviceId=a:b.c(1)!=@$';SharedAccessKey=" + testKey,
			ConnectionString{HostName: "h", DeviceID: "a:b.c(1)!=@$'", Key: testKey}, KindDevice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConnectionString(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseConnectionString(%q) = %#v, %v, want %#v", tt.in, got, err, tt.want)
			}
			if k := got.Kind(); k != tt.kind {
				t.Errorf("ParseConnectionString(%q).Kind() = %v, want %v", tt.in, k, tt.kind)
			}
			again, err := ParseConnectionString(got.String())
			if err != nil || again != got {
				t.Errorf("ParseConnectionString(%q) = %#v, %v, want %#v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseConnectionStringErrors(t *testing.T) {
	const dev = "HostName=h;DeviceId=d1;"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "connection string: the string is empty"},
		{"blank", " \n", "connection string: the string is empty"},
		{"no =", "HostName=h;DeviceId;SharedAccessKey=" + testKey, "part 2 has no '='"},
		{"typo", dev + "SharedAccesKey=" + testKey, `unknown key "SharedAccesKey" (did you mean SharedAccessKey?) (known keys: HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, GatewayHostName, x509)`},
		{"unknown, no hint", dev + "Foo=bar;x509=true", `unknown key "Foo" (known keys:`},
		{"key without its name", dev + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "unknown key of 43 characters (not shown: it may be a secret)"},
		{"duplicate", dev + "deviceid=d2;x509=true", "DeviceId appears twice"},
		{"empty value", dev + "SharedAccessKey=", "SharedAccessKey is empty"},
		{"no host", "DeviceId=d1;SharedAccessKey=" + testKey, "HostName is missing"},
		{"scheme", "HostName=https://h;DeviceId=d1;x509=true", `HostName "https://h" has a scheme`},
		{"path", "HostName=h/devices;DeviceId=d1;x509=true", `HostName "h/devices" has a path`},
		{"space", "HostName=my hub;DeviceId=d1;x509=true", `HostName "my hub" contains spaces`},
		{"gateway scheme", dev + "x509=true;GatewayHostName=mqtts://edge", `GatewayHostName "mqtts://edge" has a scheme`},
		{"device, no auth", "HostName=h;DeviceId=d1", "a device string needs one of SharedAccessKey, SharedAccessSignature or x509=true"},
		{"module, no auth", "HostName=h;DeviceId=d1;ModuleId=m", "a module string needs one of"},
		{"key and x509", dev + "x509=true;SharedAccessKey=" + testKey, "a device string takes only one of SharedAccessKey, SharedAccessSignature and x509=true; this one has SharedAccessKey and x509=true"},
		{"key and signature", dev + "SharedAccessKey=" + testKey + ";SharedAccessSignature=" + testSig, "this one has SharedAccessKey and SharedAccessSignature"},
		{"signature and x509", dev + "x509=true;SharedAccessSignature=" + testSig, "this one has SharedAccessSignature and x509=true"},
		{"x509=maybe", dev + "x509=maybe", `x509 is "maybe"; want true or false`},
		{"module without device", "HostName=h;ModuleId=m;SharedAccessKey=" + testKey, `ModuleId "m" needs a DeviceId`},
		{"x509 without device", "HostName=h;x509=true", "x509=true needs a DeviceId"},
		{"policy without name", "HostName=h;SharedAccessKey=" + testKey, "without DeviceId it is a policy string, which needs SharedAccessKeyName"},
		{"policy without key", "HostName=h;SharedAccessKeyName=service", "without DeviceId it is a policy string, which needs SharedAccessKey"},
		{"policy with key and signature", "HostName=h;SharedAccessKeyName=s;SharedAccessKey=" + testKey + ";SharedAccessSignature=" + testSig, "a policy string takes only one of"},
		{"bad base64", dev + "SharedAccessKey=not*base64", "SharedAccessKey: key is not valid base64"},
		{"short key", dev + "SharedAccessKey=c2hvcnQ=", "SharedAccessKey: key is 5 bytes long once decoded; it must be 16 to 64 bytes"},
		{"bad signature", dev + "SharedAccessSignature=SharedAccessSignature sr=h&se=1", "SharedAccessSignature: sas: malformed token: field sig is missing"},
		{"bad device ID", "HostName=h;DeviceId=d 1;x509=true", `DeviceId: device ID "d 1" has ' ' at offset 1`},
		{"bad module ID", dev + "ModuleId=m#;x509=true", "ModuleId: device ID \"m#\" has '#'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConnectionString(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConnectionString(%q) = %v, want %v", tt.in, err, tt.want)
			}
			var te *tether.Error
			if !errors.As(err, &te) || te.Code != tether.ArgumentInvalid {
				t.Errorf("ParseConnectionString(%q) = %#v, want a *tether.Error with code ArgumentInvalid", tt.in, err)
			}
			if !strings.HasPrefix(err.Error(), "connection string: ") {
				t.Errorf("ParseConnectionString(%q) = %q, want it to start with \"connection string: \"", tt.in, err)
			}
			for _, secret := range []string{testKey, strings.TrimRight(testKey, "="), testKey2, "x0%2B%2FNbZHLFp"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("ParseConnectionString(%q) = %q, which reveals a secret", tt.in, err)
				}
			}
		})
	}
}

func TestConnectionStringString(t *testing.T) {
	c := ConnectionString{HostName: "h", DeviceID: "d1", ModuleID: "m", KeyName: "device", Key: testKey, GatewayHostName: "g"}
	want := "HostName=h;DeviceId=d1;ModuleId=m;SharedAccessKeyName=device;SharedAccessKey=" + testKey + ";GatewayHostName=g"
	if got := c.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	c = ConnectionString{HostName: "h", DeviceID: "d1", X509: true}
	if got, want := c.String(), "HostName=h;DeviceId=d1;x509=true"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindDevice: "device", KindModule: "module", KindPolicy: "policy", Kind(7): "Kind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
