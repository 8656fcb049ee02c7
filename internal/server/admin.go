package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/events"
	"github.com/tether-iot/tether/internal/notify"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/sas"
)

// settingHostname is the store setting that remembers --hostname, so that
// local CLI commands print connection strings for the name serve uses.
const settingHostname = "hostname"

// Admin is the hub's data folder opened for local administration: the
// store, the policies and the service API in-process, with no listener.
type Admin struct {
	st       *store.Store
	hostname string
	dataDir  string
	handler  http.Handler
}

// AdminOptions configures OpenAdmin.
type AdminOptions struct {
	DataDir  string
	Hostname string // "" means the name the last tether serve used, else localhost
}

// OpenAdmin opens (creating if needed) the data folder for local
// commands. Close it when done.
func OpenAdmin(ctx context.Context, o AdminOptions) (*Admin, error) {
	if o.DataDir == "" {
		o.DataDir = DefaultConfig().DataDir
	}
	if err := prepareDataDir(o.DataDir); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Options{Path: storePath(o.DataDir)})
	if err != nil {
		return nil, err
	}
	a := &Admin{st: st, dataDir: o.DataDir, hostname: o.Hostname}
	if a.hostname == "" {
		h, ok, err := st.Setting(ctx, settingHostname)
		if err != nil {
			st.Close()
			return nil, err
		}
		a.hostname = "localhost"
		if ok {
			a.hostname = h
		}
	}
	if _, err := ensurePolicies(ctx, st, nil); err != nil {
		st.Close()
		return nil, err
	}
	ev, err := newEvents(st, a.hostname, "", slog.New(slog.DiscardHandler))
	if err != nil {
		st.Close()
		return nil, err
	}
	nt, err := newNotifier(st, "", notify.SMTPConfig{}, slog.New(slog.DiscardHandler))
	if err != nil {
		st.Close()
		return nil, err
	}
	al, err := newAlerts(st, alertMetrics{}, alertParts{logs: alertLogs{st.LogsDB()}, groups: alertGroups{nt}}, slog.New(slog.DiscardHandler))
	if err != nil {
		st.Close()
		return nil, err
	}
	if a.handler, err = newAPI(a.hostname, st, ev, &api.Options{C2D: c2dQueue{st: st}, Events: ev, Alerts: al, ActionGroups: nt, AlertTests: ruleTester{al, nt},
		Logs: newLogQuerier(st.LogsDB(), DefaultConfig().QueryTimeout, DefaultConfig().QueryMaxRows)}); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// Close closes the store.
func (a *Admin) Close() error { return a.st.Close() }

// Hostname is the host name in connection strings and token audiences.
func (a *Admin) Hostname() string { return a.hostname }

// CAFile is the PEM file clients trust, or "" when none was generated.
func (a *Admin) CAFile() string {
	p := filepath.Join(a.dataDir, "tls", "ca.pem")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Handler is the service API over this data folder, for in-process calls.
func (a *Admin) Handler() http.Handler { return a.handler }

// PolicyConnectionString returns the connection string of a policy.
func (a *Admin) PolicyConnectionString(ctx context.Context, name string) (sas.ConnectionString, error) {
	return policyConnectionString(ctx, a.st, a.hostname, name)
}

// Policies lists the shared access policies.
func (a *Admin) Policies(ctx context.Context) ([]tether.Policy, error) { return a.st.Policies(ctx) }

func policyConnectionString(ctx context.Context, st *store.Store, host, name string) (sas.ConnectionString, error) {
	p, err := st.Policy(ctx, name)
	if err != nil {
		if tether.ErrorKind(err) == tether.KindNotFound {
			ps, _ := st.Policies(ctx)
			names := make([]string, len(ps))
			for i, p := range ps {
				names[i] = p.Name
			}
			return sas.ConnectionString{}, fmt.Errorf("no shared access policy named %q; the hub has %v", name, names)
		}
		return sas.ConnectionString{}, err
	}
	return sas.ConnectionString{HostName: host, KeyName: p.Name, Key: p.PrimaryKey}, nil
}

// newEvents builds the lifecycle-event publisher over st.
func newEvents(st *store.Store, hostname, resourceID string, log *slog.Logger) (*events.Events, error) {
	hub, _, _ := strings.Cut(hostname, ".")
	if resourceID == "" {
		resourceID = store.DefaultResourceID
	}
	return events.New(events.Options{Store: eventStore{st}, HubName: hub, Topic: resourceID, Logger: log})
}

// newAPI builds the service API over st; device creations and deletions
// become lifecycle events.
func newAPI(host string, st *store.Store, ev *events.Events, o *api.Options) (*api.API, error) {
	opts := api.Options{}
	if o != nil {
		opts = *o
	}
	opts.Hostname, opts.Devices, opts.Twins, opts.Stats = host, eventDevices{st, logPublisher{ev, opts.Logger}}, st, st
	opts.Policy = st.Policy
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Doctor == nil {
		d, err := newDoctor(st)
		if err != nil {
			return nil, err
		}
		opts.Doctor = d
	}
	a, err := api.New(opts)
	if err != nil {
		return nil, errors.Join(errors.New("build service API"), err)
	}
	return a, nil
}
