package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tether-iot/tether/internal/wire"
)

func TestActionGroupCommands(t *testing.T) {
	data := t.TempDir()
	var hits atomic.Int32
	var lastBody atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lastBody.Store(string(b))
		hits.Add(1)
	}))
	defer hook.Close()
	url := hook.URL + "/hook?code=s3cret"

	out := mustRun(t, "--data", data, "action-group", "create", "ops", "--webhook", url)
	if strings.Contains(out, "s3cret") || !strings.Contains(out, "code=REDACTED") || !strings.Contains(out, "webhook signing secret: ") {
		t.Errorf("create printed:\n%s\nwant the URL redacted and the secret shown", out)
	}
	var gs []wire.ActionGroup
	if err := json.Unmarshal([]byte(mustRun(t, "--data", data, "action-group", "list", "-o", "json")), &gs); err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Name != "ops" || gs[0].Secret != "" || strings.Contains(gs[0].Receivers[0].URL, "s3cret") {
		t.Errorf("list -o json = %+v, want ops, redacted, no secret", gs)
	}

	out = mustRun(t, "--data", data, "action-group", "test", "ops")
	if hits.Load() != 1 || !strings.Contains(out, "delivered") {
		t.Errorf("test: webhook hits %d, output:\n%s\nwant one delivered request", hits.Load(), out)
	}
	if b, _ := lastBody.Load().(string); !strings.Contains(b, `"schemaId":"azureMonitorCommonAlertSchema"`) {
		t.Errorf("the webhook got %s, want the common alert schema", b)
	}
	out = mustRun(t, "--data", data, "action-group", "history", "ops")
	if !strings.Contains(out, "test-ops") || !strings.Contains(out, "Test") || strings.Contains(out, "s3cret") {
		t.Errorf("history printed:\n%s\nwant the redacted test attempt", out)
	}

	hook.Close()
	out, err := run(t, "--data", data, "action-group", "test", "ops")
	if err == nil || !strings.Contains(out, "failed") || !strings.Contains(err.Error(), "1 of 1 receivers failed") {
		t.Errorf("test of an unreachable webhook = %v\n%s\nwant a failure", err, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"action-group", "create", "ops", "--webhook", "https://a.example"}, "already exists"},
		{[]string{"action-group", "create", "x", "--webhook", "ftp://a.example"}, `scheme "ftp" is not supported`},
		{[]string{"action-group", "create", "x"}, "needs at least one receiver"},
		{[]string{"action-group", "create", "x", "--email", "nobody"}, "is not valid"},
		{[]string{"action-group", "show", "nope"}, "No action group named 'nope'"},
		{[]string{"alert", "test", "nope"}, "nope"},
	} {
		out, err := run(t, append([]string{"--data", data}, c.args...)...)
		if err == nil || !strings.Contains(err.Error()+out, c.want) {
			t.Errorf("tether %v = %v\n%s\nwant an error containing %q", c.args, err, out, c.want)
		}
	}
	mustRun(t, "--data", data, "action-group", "delete", "ops")
	if out := mustRun(t, "--data", data, "action-group", "list"); strings.Contains(out, "ops") {
		t.Errorf("after delete, list shows:\n%s", out)
	}
}

func TestAlertTestSendsTheRulesNotification(t *testing.T) {
	data := t.TempDir()
	bodies := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
	}))
	defer hook.Close()
	mustRun(t, "--data", data, "action-group", "create", "ops", "--webhook", hook.URL)
	if _, err := run(t, "--data", data, "alert", "create", "devices-low", "--metric", "connectedDeviceCount",
		"--aggregation", "min", "--operator", "lt", "--threshold", "15", "--window", "5m", "--frequency", "10s",
		"--action-group", "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("alert create with an unknown action group = %v, want an error naming it", err)
	}
	mustRun(t, "--data", data, "alert", "create", "devices-low", "--metric", "connectedDeviceCount",
		"--aggregation", "min", "--operator", "lt", "--threshold", "15", "--window", "5m", "--frequency", "10s",
		"--action-group", "ops")
	out := mustRun(t, "--data", data, "alert", "test", "devices-low")
	if !strings.Contains(out, "delivered") {
		t.Errorf("alert test printed:\n%s\nwant delivered", out)
	}
	var p struct {
		Data struct {
			Essentials struct {
				AlertRule, Severity, MonitorCondition string
			}
			AlertContext struct {
				Condition struct {
					WindowSize string
					AllOf      []struct{ MetricName, Operator, Threshold, TimeAggregation string }
				}
			}
			CustomProperties map[string]string
		}
	}
	select {
	case b := <-bodies:
		if err := json.Unmarshal([]byte(b), &p); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatal("the webhook got nothing")
	}
	e, c := p.Data.Essentials, p.Data.AlertContext.Condition
	if e.AlertRule != "devices-low" || e.MonitorCondition != "Fired" || p.Data.CustomProperties["tetherTest"] != "true" ||
		c.WindowSize != "PT5M" || len(c.AllOf) != 1 || c.AllOf[0].MetricName != "connectedDeviceCount" ||
		c.AllOf[0].Operator != "LessThan" || c.AllOf[0].Threshold != "15" || c.AllOf[0].TimeAggregation != "Minimum" {
		t.Errorf("test payload = %+v, want the rule's condition marked as a test", p.Data)
	}
}

func TestServeRefusesIncompleteSMTPSettings(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp-addr", "127.0.0.1:25"}, "--smtp-addr needs --smtp-from"},
		{[]string{"--smtp-addr", "mail.example", "--smtp-from", "t@example.com"}, "not host:port"},
		{[]string{"--smtp-from", "t@example.com"}, "need --smtp-addr"},
		{[]string{"--smtp-addr", "127.0.0.1:25", "--smtp-from", "t@example.com", "--smtp-user", "u"}, "go together"},
	} {
		args := append([]string{"--data", t.TempDir(), "serve", "--https-addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0"}, c.args...)
		if out, err := run(t, args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("tether serve %v = %v\n%s\nwant an error containing %q", c.args, err, out, c.want)
		}
	}
}
