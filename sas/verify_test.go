package sas

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

var (
	now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	exp = now.Add(time.Hour)
)

const (
	policyPrimary   = "cG9saWN5LXByaW1hcnkta2V5LTAxMjM0NTY3ODlhYg==" // 32 bytes
	policySecondary = "cG9saWN5LXNlY29uZGFyeS1rZXktMDEyMzQ1Njc4OQ==" // 32 bytes
)

// testPolicies looks up the default policies of a hub, all with the
// same keys.
func testPolicies(name string) (Credential, error) {
	for _, p := range tether.DefaultPolicies() {
		if p.Name == name {
			return Credential{Name: p.Name, PrimaryKey: policyPrimary, SecondaryKey: policySecondary, Rights: p.Rights}, nil
		}
	}
	return Credential{}, fmt.Errorf("%w %q", ErrUnknownPolicy, name)
}

// testDevice returns the keys of device d1.
func testDevice() (Credential, error) {
	return Credential{Name: "d1", PrimaryKey: testKey, SecondaryKey: testKey2}, nil
}

// deviceRequest is a request by device d1 on localhost.
func deviceRequest(tok Token) Request {
	return Request{Token: string(tok), Now: now, Target: "localhost/devices/d1",
		Need: tether.DeviceConnect, Policy: testPolicies, Device: testDevice}
}

// serviceRequest is a request to the service API of localhost.
func serviceRequest(tok Token, need tether.Rights) Request {
	return Request{Token: string(tok), Now: now, Target: "localhost", Need: need, Policy: testPolicies}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name string
		req  Request
	}{
		{"device, primary key", deviceRequest(mustSign(t, "localhost/devices/d1", testKey, "", exp))},
		{"device, rotated to the secondary key", deviceRequest(mustSign(t, "localhost/devices/d1", testKey2, "", exp))},
		{"device, host in other case", deviceRequest(mustSign(t, "LocalHost/devices/d1", testKey, "", exp))},
		{"device, trailing slash", deviceRequest(mustSign(t, "localhost/devices/d1/", testKey, "", exp))},
		{"device, hub-level DeviceConnect policy", deviceRequest(mustSign(t, "localhost", policyPrimary, "device", exp))},
		{"device, device-scoped policy token", deviceRequest(mustSign(t, "localhost/devices/d1", policySecondary, "iothubowner", exp))},
		{"device, gateway token for all devices", deviceRequest(mustSign(t, "localhost/devices", policyPrimary, "device", exp))},
		{"service", serviceRequest(mustSign(t, "localhost", policyPrimary, "service", exp), tether.ServiceConnect)},
		{"service, owner", serviceRequest(mustSign(t, "localhost", policyPrimary, "iothubowner", exp), tether.RegistryRead|tether.RegistryWrite)},
		{"module", Request{Token: string(mustSign(t, ResourceURI("localhost", "d1", "m1"), testKey, "", exp)), Now: now,
			Target: "localhost/devices/d1/modules/m1", Device: testDevice}},
		{"lower-case escapes (C SDK)", deviceRequest(resign(t, "localhost%2fdevices%2fd1", testKey, exp))},
		{"double-encoded device ID (C# SDK)", Request{Token: string(resign(t, escape("localhost/devices/"+escape("a:b(1)")), testKey, exp)),
			Now: now, Target: "localhost/devices/a:b(1)", Device: testDevice}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Verify(tt.req)
			if err != nil || p == nil {
				t.Fatalf("Verify(%s) = %v, %v, want a token", tt.req.Token, p, err)
			}
		})
	}
}

// resign returns a token whose sr is exactly sr (already escaped), signed
// as an SDK with its own escaping would sign it.
func resign(tb testing.TB, sr string, key tether.Secret, expiry time.Time) Token {
	tb.Helper()
	k, err := tether.DecodeKey(key.Reveal())
	if err != nil {
		tb.Fatal(err)
	}
	se := fmt.Sprint(expiry.Unix())
	return Token(fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%s", sr, escape(b64(mac(k, sr, se))), se))
}

func TestVerifyExpiry(t *testing.T) {
	tok := mustSign(t, "localhost/devices/d1", testKey, "", exp)
	tests := []struct {
		name string
		now  time.Time
		skew time.Duration
		ok   bool
	}{
		{"at expiry + default skew", exp.Add(DefaultSkew), 0, true},
		{"a second later", exp.Add(DefaultSkew + time.Second), 0, false},
		{"at expiry + custom skew", exp.Add(time.Minute), time.Minute, true},
		{"past custom skew", exp.Add(time.Minute + time.Second), time.Minute, false},
		{"no skew, at expiry", exp, -1, true},
		{"no skew, a second later", exp.Add(time.Second), -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := deviceRequest(tok)
			r.Now, r.Skew = tt.now, tt.skew
			_, err := Verify(r)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrExpired)) {
				t.Fatalf("Verify(now=%v, skew=%v) = %v, want ok=%v or ErrExpired", tt.now, tt.skew, err, tt.ok)
			}
		})
	}
}

func TestVerifyErrors(t *testing.T) {
	devTok := mustSign(t, "localhost/devices/d1", testKey, "", exp)
	tests := []struct {
		name   string
		req    Request
		target error
		want   string
	}{
		{"malformed", deviceRequest("SharedAccessSignature sr=x"), ErrMalformed, "sas: malformed token: field sig is missing"},
		{"wrong device key", deviceRequest(mustSign(t, "localhost/devices/d1", policyPrimary, "", exp)), ErrSignatureMismatch,
			`sas: signature mismatch: the token matches neither the primary nor the secondary key of device "d1"`},
		{"wrong policy key", serviceRequest(mustSign(t, "localhost", testKey, "service", exp), tether.ServiceConnect), ErrSignatureMismatch,
			`sas: signature mismatch: the token matches neither the primary nor the secondary key of policy "service"`},
		{"tampered expiry", deviceRequest(Token(strings.Replace(string(devTok), fmt.Sprint(exp.Unix()), fmt.Sprint(exp.Unix()+3600), 1))), ErrSignatureMismatch,
			"sas: signature mismatch"},
		{"expired", func() Request { r := deviceRequest(devTok); r.Now = exp.Add(7*time.Minute + 12*time.Second); return r }(), ErrExpired,
			"sas: token expired at 2026-11-25T11:00:00Z (server time 2026-11-25T11:07:12Z, allowed clock skew 5m0s)"},
		{"other device", func() Request { r := deviceRequest(devTok); r.Target = "localhost/devices/d10"; return r }(), ErrAudience,
			`sas: token is for "localhost/devices/d1", not "localhost/devices/d10"`},
		{"wrong hub", deviceRequest(mustSign(t, "a/devices/d1", testKey, "", exp)), ErrAudience,
			`sas: token is for "a/devices/d1", not "localhost/devices/d1"`},
		{"wrong hub, policy", serviceRequest(mustSign(t, "otherhub", policyPrimary, "service", exp), tether.ServiceConnect), ErrAudience,
			`sas: token is for "otherhub", not "localhost"`},
		{"device token on the service API", serviceRequest(mustSign(t, "localhost", testKey, "", exp), tether.ServiceConnect), ErrUnknownPolicy,
			"sas: unknown policy: the token has no skn (it is signed with a device key), but only policy-signed tokens are accepted here"},
		{"policy token where only device keys go", func() Request {
			r := deviceRequest(mustSign(t, "localhost", policyPrimary, "device", exp))
			r.Policy = nil
			return r
		}(), ErrUnknownPolicy, `sas: unknown policy: the token is signed with policy "device", but only device keys are accepted here`},
		{"unknown policy", serviceRequest(mustSign(t, "localhost", policyPrimary, "servce", exp), tether.ServiceConnect), ErrUnknownPolicy,
			`token signed with policy "servce": sas: unknown policy "servce"`},
		{"policy lacks the right", serviceRequest(mustSign(t, "localhost", policyPrimary, "registryRead", exp), tether.RegistryRead|tether.RegistryWrite), ErrPermission,
			`sas: permission denied: policy "registryRead" grants RegistryRead but this needs RegistryRead, RegistryWrite (missing RegistryWrite)`},
		{"service policy cannot connect devices", deviceRequest(mustSign(t, "localhost", policyPrimary, "service", exp)), ErrPermission,
			`policy "service" grants ServiceConnect but this needs DeviceConnect (missing DeviceConnect)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Verify(tt.req)
			if !errors.Is(err, tt.target) || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Fatalf("Verify(%s) = %v, %v, want %v (%v)", tt.req.Token, p, err, tt.want, tt.target)
			}
		})
	}
}

func TestVerifyLookupErrors(t *testing.T) {
	notFound := tether.Errorf(tether.DeviceNotFound, "device %q is not registered", "d1")
	r := deviceRequest(mustSign(t, "localhost/devices/d1", testKey, "", exp))
	r.Device = func() (Credential, error) { return Credential{}, notFound }
	_, err := Verify(r)
	if !errors.Is(err, notFound) || tether.ErrorCode(err) != tether.DeviceNotFound {
		t.Errorf("Verify(unknown device) = %v, want it to wrap %v", err, notFound)
	}

	r.Device = nil
	if _, err := Verify(r); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("Verify(device token, Device nil) = %v, want ErrUnknownPolicy", err)
	}

	r = deviceRequest(mustSign(t, "localhost/devices/d1", testKey, "", exp))
	r.Now = time.Time{}
	if p, err := Verify(r); err == nil || !strings.Contains(err.Error(), "Request.Now is not set") {
		t.Errorf("Verify(zero Now) = %v, %v, want an error", p, err)
	}
}

func TestVerifyErrorTypes(t *testing.T) {
	r := serviceRequest(mustSign(t, "localhost", policyPrimary, "registryRead", exp), tether.RegistryWrite)
	_, err := Verify(r)
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Policy != "registryRead" || pe.Has != tether.RegistryRead || pe.Need != tether.RegistryWrite {
		t.Errorf("Verify = %#v, want a *PermissionError for registryRead", err)
	}
	r = deviceRequest(mustSign(t, "localhost/devices/d2", testKey, "", exp))
	_, err = Verify(r)
	var ae *AudienceError
	if !errors.As(err, &ae) || ae.Got != "localhost/devices/d2" || ae.Want != "localhost/devices/d1" {
		t.Errorf("Verify = %#v, want an *AudienceError", err)
	}
	if errors.Is(err, ErrExpired) || errors.Is(err, ErrPermission) {
		t.Errorf("Verify = %v, which matches unrelated sentinels", err)
	}
}
