package api

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/tether-iot/tether"
)

// DeviceStore is the registry the API reads and writes.
type DeviceStore interface {
	CreateDevice(ctx context.Context, d tether.Device) (tether.Device, error)
	Device(ctx context.Context, id string) (tether.Device, error)
	Devices(ctx context.Context, limit int) ([]tether.Device, error)
	UpdateDevice(ctx context.Context, id string, fn func(*tether.Device) error) (tether.Device, error)
	DeleteDevice(ctx context.Context, id string, fn func(tether.Device) error) error
}

// TwinStore reads and atomically updates twins.
type TwinStore interface {
	Twin(ctx context.Context, id string) (tether.Twin, error)
	UpdateTwin(ctx context.Context, id string, fn func(*tether.Twin) error) (tether.Twin, error)
}

// StatsSource answers the statistics endpoints.
type StatsSource interface {
	DeviceCounts(ctx context.Context) (total, enabled, disabled int, err error)
}

// MethodInvoker delivers a direct method to a connected device and waits
// for its answer. It returns a DeviceNotOnline error when the device is
// not connected or has not subscribed to methods.
type MethodInvoker interface {
	InvokeMethod(ctx context.Context, deviceID string, call MethodCall) (MethodResult, error)
}

// ChangeListener hears of registry and twin changes that connected
// devices must see.
type ChangeListener interface {
	// DesiredChanged is called after a device's desired properties
	// changed; patch holds what changed (null members were removed).
	DesiredChanged(deviceID string, patch map[string]any, version int64)
	// DeviceChanged is called after a device was updated or deleted.
	DeviceChanged(d tether.Device, deleted bool)
}

// PolicyFunc looks up a shared access policy by name.
type PolicyFunc func(ctx context.Context, name string) (tether.Policy, error)

// Options configures an API.
type Options struct {
	Hostname  string // the hub's host name, the audience of service tokens; required
	Devices   DeviceStore
	Twins     TwinStore
	Stats     StatsSource
	Policy    PolicyFunc
	Methods   MethodInvoker   // nil: every method call answers DeviceNotOnline
	C2D       C2DQueue        // nil: the cloud-to-device routes answer 503 ServiceUnavailable
	Telemetry TelemetrySource // nil: GET /telemetry answers 503 ServiceUnavailable
	KeepAlive time.Duration   // between keep-alive comments of an idle telemetry stream; 0: 15s
	Connected func() int      // connected device count; nil means 0
	// Changes, when set, hears of every successful write the gateway must
	// act on: desired properties to push, devices to disconnect.
	Changes ChangeListener
	Logger  *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
	Rand    io.Reader        // key generation; nil: crypto/rand

	// Events manages lifecycle-event subscriptions; nil: the /v1/event*
	// routes answer 503 ServiceUnavailable.
	Events EventSubscriptions

	// Operations, when set, hears of every registry, twin, direct-method
	// and cloud-to-device call, for the diagnostics log and metrics.
	Operations Operations
	// Diagnostics reads and changes the diagnostic settings; nil:
	// /v1/diagnosticSettings answers 503 ServiceUnavailable.
	Diagnostics DiagnosticSettings
	// Logs runs KQL over the diagnostic logs; nil: /v1/query answers 503.
	Logs LogQuerier
	// Alerts manages alert rules; nil: /v1/alertRules answers 503.
	Alerts AlertRules
	// ActionGroups keeps the alert notification receivers; nil:
	// /v1/actionGroups answers 503 ServiceUnavailable.
	ActionGroups ActionGroups
	// AlertTests sends test notifications of alert rules; nil: POST
	// /v1/alertRules/{name}/test answers 503 ServiceUnavailable.
	AlertTests AlertTester
	// Doctor answers GET /v1/diagnose; nil: it answers 503
	// ServiceUnavailable.
	Doctor Diagnoser
	// Bans lists the auth-failure bans in force; nil: GET /v1/bans
	// answers 503 ServiceUnavailable.
	Bans BanList
}

// API is the service API's HTTP handler.
type API struct {
	o   Options
	log *slog.Logger
	mux *routeMux
}

// New returns an API ready to serve.
func New(o Options) (*API, error) {
	if o.Hostname == "" || o.Devices == nil || o.Twins == nil || o.Policy == nil || o.Stats == nil {
		return nil, errors.New("api: Hostname, Devices, Twins, Stats and Policy are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Connected == nil {
		o.Connected = func() int { return 0 }
	}
	a := &API{o: o, log: o.Logger, mux: newRouteMux()}
	a.routes()
	return a, nil
}

func (a *API) routes() {
	a.handleOp("GET /devices", tether.RegistryRead, a.registryOp("list"), a.listDevices)
	a.handleOp("GET /devices/{$}", tether.RegistryRead, a.registryOp("list"), a.listDevices)
	a.handleOp("GET /devices/{id}", tether.RegistryRead, a.registryOp("get"), a.getDevice)
	a.handleOp("PUT /devices/{id}", tether.RegistryWrite, a.putDeviceOp, a.putDevice)
	a.handleOp("DELETE /devices/{id}", tether.RegistryWrite, a.registryOp("delete"), a.deleteDevice)
	a.handle("GET /statistics/devices", tether.RegistryRead, a.deviceStats)
	a.handle("GET /statistics/service", tether.ServiceConnect, a.serviceStats)
	a.handleOp("GET /twins/{id}", tether.ServiceConnect, a.twinOp("read"), a.getTwin)
	a.handleOp("PATCH /twins/{id}", tether.ServiceConnect, a.twinOp("update"), a.patchTwin)
	a.handleOp("PUT /twins/{id}", tether.ServiceConnect, a.twinOp("replace"), a.putTwin)
	a.handleOp("POST /twins/{id}/methods", tether.ServiceConnect, a.methodOp, a.invokeMethod)
	a.handleOp("POST /devices/{id}/messages/deviceBound", tether.ServiceConnect, a.c2dOp, a.sendC2D)
	a.handleOp("POST /devices/{id}/messages/devicebound", tether.ServiceConnect, a.c2dOp, a.sendC2D)
	a.handle("DELETE /devices/{id}/commands", tether.ServiceConnect, a.purgeC2D)
	a.handle("GET /telemetry", tether.ServiceConnect, a.streamTelemetry)
	a.handleV1("PUT /v1/eventSubscriptions/{name}", tether.ServiceConnect, a.putEventSubscription)
	a.handleV1("GET /v1/eventSubscriptions", tether.ServiceConnect, a.listEventSubscriptions)
	a.handleV1("GET /v1/eventSubscriptions/{name}", tether.ServiceConnect, a.getEventSubscription)
	a.handleV1("DELETE /v1/eventSubscriptions/{name}", tether.ServiceConnect, a.deleteEventSubscription)
	a.handleV1("GET /v1/eventDeliveries", tether.ServiceConnect, a.listEventDeliveries)
	a.handleDiag("GET /v1/diagnosticSettings", a.getDiagnosticSettings)
	a.handleDiag("PUT /v1/diagnosticSettings", a.putDiagnosticSettings)
	a.handleQuery("POST /v1/query")
	a.handleQuery("GET /v1/query")
	a.alertRoutes()
	a.actionGroupRoutes()
	a.handleDiagnose("GET /v1/diagnose", a.getDiagnosis)
	a.handleTether("GET /v1/bans", a.listBans)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		writeErrorBody(w, http.StatusNotFound, "NotFound", "no such endpoint: "+r.Method+" "+r.URL.Path, a.o.Now())
	})
}

// ServeHTTP serves the service API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// handlerFunc is a handler that returns its error for one place to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) handle(pattern string, need tether.Rights, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, need, h) })
}

// serve checks the api-version and the token, runs h and writes its
// error; it returns the error.
func (a *API) serve(w http.ResponseWriter, r *http.Request, need tether.Rights, h handlerFunc) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	err := checkAPIVersion(r)
	if err == nil {
		err = a.authorize(r, need)
	}
	if err == nil {
		err = h(w, r)
	}
	if err != nil {
		a.writeError(w, r, err)
	}
	return err
}
