package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tether-iot/tether"
)

// Registry looks up devices and shared access policies for CONNECT.
type Registry interface {
	Device(ctx context.Context, id string) (tether.Device, error)
	Policy(ctx context.Context, name string) (tether.Policy, error)
}

// Twins reads and atomically updates twins.
type Twins interface {
	Twin(ctx context.Context, id string) (tether.Twin, error)
	UpdateTwin(ctx context.Context, id string, fn func(*tether.Twin) error) (tether.Twin, error)
}

// Telemetry is the telemetry stream. Submit must call done exactly once,
// when m is durable (or failed), and for one caller in the order of its
// submissions; done must not block.
type Telemetry interface {
	Submit(m tether.Message, done func(seq int64, err error))
}

// C2D is the cloud-to-device queue.
type C2D interface {
	PendingC2D(ctx context.Context, deviceID string, now time.Time) ([]tether.C2DMessage, error)
	MarkC2DDelivered(ctx context.Context, deviceID string, seq int64) error
	CompleteC2D(ctx context.Context, deviceID string, seq int64) error
	// C2DSince returns the devices with messages queued after seq after,
	// and the newest seq; the gateway polls it to deliver messages that
	// another process queued.
	C2DSince(ctx context.Context, after int64) (devices []string, last int64, err error)
}

// Sessions stores the subscriptions of persistent sessions
// (CleanSession=0), so that they survive a restart of the hub.
type Sessions interface {
	// Session returns a client id's stored subscription bits.
	Session(ctx context.Context, clientID string) (subs int, ok bool, err error)
	// SaveSessions stores, or for Subs < 0 deletes, sessions.
	SaveSessions(ctx context.Context, ss []SessionState) error
}

// SessionState is a persistent session's subscriptions; Subs < 0 forgets it.
type SessionState struct {
	ClientID string
	Subs     int
	Updated  time.Time
}

// PresenceUpdate is a device's connection state or last activity.
type PresenceUpdate struct {
	DeviceID     string
	State        tether.ConnectionState // "" leaves it as it is
	StateChanged time.Time
	LastActivity time.Time
	Disconnect   tether.Disconnect // set when a connection ended
}

// Presence records connection states in the registry.
type Presence interface {
	SetPresence(ctx context.Context, ups []PresenceUpdate) error
}

// DeviceOp is what the Observer hears of a device's request.
type DeviceOp struct {
	DeviceID   string
	ModuleID   string
	Protocol   tether.Protocol
	AuthScope  string // "device" or "hub" (a policy token)
	SDKVersion string // DeviceClientType from the username
	RemoteAddr string // unmasked
	Time       time.Time
	Duration   time.Duration
	Bytes      int               // the message, the patch, or the twin document sent
	Code       tether.ResultCode // 0: it succeeded
}

// Observer hears what devices do, for metrics and the diagnostics log.
// Its methods must not block.
type Observer interface {
	// Telemetry: Code 0 accepted, 429001 throttled, 413001 too large.
	Telemetry(op DeviceOp)
	DeviceTwin(kind string, op DeviceOp) // kind: "read" or "update"
	// C2DDelivered: m was sent to the device (m.DeliveryCount counts this
	// delivery); C2DCompleted: the device acknowledged message seq.
	C2DDelivered(op DeviceOp, m tether.C2DMessage)
	C2DCompleted(op DeviceOp, seq int64)
}

type noObserver struct{}

func (noObserver) Telemetry(DeviceOp)                       {}
func (noObserver) DeviceTwin(string, DeviceOp)              {}
func (noObserver) C2DDelivered(DeviceOp, tether.C2DMessage) {}
func (noObserver) C2DCompleted(DeviceOp, int64)             {}

// Options configures a Gateway.
type Options struct {
	Hostname       string // the hub's host name: token audiences are <Hostname>/devices/<id>
	Registry       Registry
	Twins          Twins
	Telemetry      Telemetry
	C2D            C2D
	Presence       Presence
	Sessions       Sessions                     // nil: persistent sessions live only in memory
	Events         func(tether.ConnectionEvent) // nil: events are only logged at debug level
	Observer       Observer                     // nil: nothing is counted
	Logger         *slog.Logger                 // nil: discard
	Now            func() time.Time             // nil: time.Now
	ConnectTimeout time.Duration                // CONNECT (and TLS) must arrive within; default 30 s
	TokenSkew      time.Duration                // allowed clock skew on SAS expiry; default 5 min
	DeviceRate     float64                      // telemetry messages per second per device; default 5000
	DeviceBurst    int                          // bucket size of DeviceRate; default 2 × DeviceRate
	PresenceEvery  time.Duration                // how often last-activity times are written; default 30 s
	C2DPollEvery   time.Duration                // how often the queue is checked for messages queued elsewhere; default 2 s

	// Admission control (see admission.go).
	ConnectRate   float64       // CONNECTs per second admitted hub-wide; 0: no limit
	ConnectBurst  int           // bucket size of ConnectRate; default one second's worth
	MaxHandshakes int           // TLS handshakes in progress at once on the MQTT listener; 0: no limit
	HandshakeWait time.Duration // how long a connection waits for a handshake slot before it is closed; default 1 s

	// Authentication-failure bans (see ban.go): AuthBanThreshold failures
	// for one device id, or AuthBanIPThreshold from one source address,
	// within AuthBanWindow ban it for AuthBanDuration. A threshold of 0
	// disables that kind of ban.
	AuthBanThreshold   int
	AuthBanIPThreshold int
	AuthBanWindow      time.Duration // default 1 min
	AuthBanDuration    time.Duration // default 5 min
}

const (
	maxKeepAliveTimeout = 1767 * time.Second
	writeTimeout        = 10 * time.Second
	maxOutbound         = 8 << 20 // bytes queued for one slow device before it is dropped
)

func (o *Options) fill() error {
	if o.Hostname == "" || o.Registry == nil || o.Twins == nil || o.Telemetry == nil || o.C2D == nil || o.Presence == nil {
		return errors.New("gateway: Hostname, Registry, Twins, Telemetry, C2D and Presence are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 30 * time.Second
	}
	if o.TokenSkew == 0 {
		o.TokenSkew = 5 * time.Minute
	}
	if o.DeviceRate <= 0 {
		o.DeviceRate = 5000
	}
	if o.DeviceBurst <= 0 {
		o.DeviceBurst = int(2 * o.DeviceRate)
	}
	if o.C2DPollEvery <= 0 {
		o.C2DPollEvery = 2 * time.Second
	}
	if o.ConnectRate < 0 || o.MaxHandshakes < 0 || o.AuthBanThreshold < 0 || o.AuthBanIPThreshold < 0 {
		return errors.New("gateway: ConnectRate, MaxHandshakes, AuthBanThreshold and AuthBanIPThreshold must not be negative (0 disables them)")
	}
	if o.ConnectBurst <= 0 {
		o.ConnectBurst = int(max(o.ConnectRate, 1))
	}
	if o.HandshakeWait <= 0 {
		o.HandshakeWait = time.Second
	}
	if o.AuthBanWindow <= 0 {
		o.AuthBanWindow = time.Minute
	}
	if o.AuthBanDuration <= 0 {
		o.AuthBanDuration = 5 * time.Minute
	}
	if o.PresenceEvery <= 0 {
		o.PresenceEvery = 30 * time.Second
	}
	return nil
}

// idleTimeout is how long the hub waits for a packet from a device with
// the given keep-alive: 1.5 × keep-alive, capped at 1767 s (Azure's
// load-balancer idle timeout); a keep-alive of 0 gets the cap.
func idleTimeout(keepAlive time.Duration) time.Duration {
	if keepAlive <= 0 {
		return maxKeepAliveTimeout
	}
	return min(keepAlive*3/2, maxKeepAliveTimeout)
}
