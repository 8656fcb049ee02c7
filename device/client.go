package device

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// Client is a device's connection to the hub. Its methods are safe for
// concurrent use. Register handlers (OnMethod, OnC2D, OnDesired) before or
// after Open; the client subscribes on first use and again whenever the
// hub has lost the session.
type Client struct {
	o        Options
	audience string // HostName without a port: TLS server name and token audience
	pc       mqtt.Client
	topics   topics

	// mu guards the fields below it.
	mu        sync.Mutex
	up        chan struct{} // closed while connected
	expiry    time.Time     // of the token of the current connection
	subs      map[string]*sub
	methods   map[string]MethodHandler
	onC2D     func(Message)
	onDesired func(patch map[string]any, version int64)
	pending   map[string]chan twinReply
	dialErr   error

	lost    chan error // capacity 1: the connection dropped
	rid     atomic.Uint64
	running atomic.Bool
	first   chan error // Open waits on it; capacity 1
	cancel  context.CancelFunc
	done    chan struct{}
	runErr  error
}

type sub struct {
	qos   byte
	acked bool // the hub has it in the current session
}

// New returns a client; it does not connect. See [Client.Open] and
// [Client.Run].
func New(o Options) (*Client, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	c := &Client{
		o: o, audience: hostOnly(o.Credentials.HostName),
		up: make(chan struct{}), subs: map[string]*sub{}, methods: map[string]MethodHandler{},
		pending: map[string]chan twinReply{}, lost: make(chan error, 1), first: make(chan error, 1),
	}
	c.topics = newTopics(o.Credentials.DeviceID, o.Credentials.ModuleID)
	clientID := o.Credentials.DeviceID
	if o.Credentials.ModuleID != "" {
		clientID += "/" + o.Credentials.ModuleID
	}
	q := url.Values{"api-version": {APIVersion}, "DeviceClientType": {o.ClientType}}
	if o.ModelID != "" {
		q.Set("model-id", o.ModelID)
	}
	username := c.audience + "/" + clientID + "/?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	po := mqtt.NewClientOptions().
		AddBroker("tls://" + o.Addr).
		SetClientID(clientID).
		SetProtocolVersion(4).
		SetCleanSession(false).
		SetKeepAlive(o.KeepAlive).
		SetPingTimeout(min(o.KeepAlive, 30*time.Second)).
		SetConnectTimeout(o.OpTimeout).
		SetWriteTimeout(o.OpTimeout).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false).
		SetCustomOpenConnectionFn(c.open).
		SetCredentialsProvider(func() (string, string) { return username, c.password() }).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case c.lost <- err:
			default:
			}
		})
	c.pc = mqtt.NewClient(po)
	c.pc.AddRoute(c.topics.methodsFilter, c.handleMethod)
	c.pc.AddRoute(c.topics.twinResFilter, c.handleTwinReply)
	c.pc.AddRoute(c.topics.desiredFilter, c.handleDesired)
	c.pc.AddRoute(c.topics.c2dFilter, c.handleC2D)
	return c, nil
}

// NewFromConnectionString parses a device connection string
// (HostName=…;DeviceId=…;SharedAccessKey=…) and returns a client; o
// supplies the other options (its Credentials are replaced).
func NewFromConnectionString(cs string, o Options) (*Client, error) {
	parsed, err := sas.ParseConnectionString(cs)
	if err != nil {
		return nil, err
	}
	o.Credentials = parsed
	return New(o)
}

// password signs a new token, or returns the fixed one, and remembers its
// expiry.
func (c *Client) password() string {
	cs := c.o.Credentials
	if cs.Key == "" {
		tok := cs.Signature.Reveal()
		if p, err := sas.ParseToken(tok); err == nil {
			c.mu.Lock()
			c.expiry = p.Expiry
			c.mu.Unlock()
		}
		return tok
	}
	expiry := c.o.Now().Add(c.o.TokenLifetime)
	tok, err := sas.Sign(sas.ResourceURI(c.audience, cs.DeviceID, cs.ModuleID), cs.Key, cs.KeyName, expiry)
	if err != nil {
		return "" // the key was checked in New; the hub refuses an empty password
	}
	c.mu.Lock()
	c.expiry = expiry
	c.mu.Unlock()
	return tok.String()
}

// open dials the hub for paho: TCP+TLS or a WebSocket, then WrapConn.
func (c *Client) open(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.o.OpTimeout)
	defer cancel()
	conn, err := c.dial(ctx)
	c.mu.Lock()
	c.dialErr = err
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if c.o.WrapConn != nil {
		conn = c.o.WrapConn(conn)
	}
	return conn, nil
}

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	cfg := &tls.Config{ServerName: c.audience, RootCAs: c.o.RootCAs, MinVersion: tls.VersionTLS12}
	if c.o.Transport == MQTTWS {
		return mqtt.NewWebsocket("wss://"+c.o.Addr+"/$iothub/websocket", cfg, c.o.OpTimeout, nil, nil)
	}
	dial := c.o.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", c.o.Addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}

// Open connects and keeps the connection in the background until Close.
// It returns once the first connection is up, or with the error that
// stopped it: a non-retryable refusal (a wrong key gives 401003 at once),
// the retry policy giving up, or ctx ending while retryable failures
// (an unreachable hub) are being retried.
func (c *Client) Open(ctx context.Context) error {
	if c.running.Load() {
		return errTwice
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		c.runErr = c.Run(runCtx)
	}()
	select {
	case err := <-c.first:
		if err != nil {
			<-c.done
		}
		return err
	case <-ctx.Done():
		cancel()
		<-c.done
		return ctx.Err()
	}
}

// Close disconnects cleanly (MQTT DISCONNECT) and stops the background
// work Open started. It returns the error that stopped the client, if
// it stopped by itself.
func (c *Client) Close() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	<-c.done
	return c.runErr
}

// Connected reports whether the client is connected right now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.up:
		return true
	default:
		return false
	}
}

// TokenExpiry is the expiry of the token of the current connection.
func (c *Client) TokenExpiry() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expiry
}

func (c *Client) setUp(up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.up:
		if !up {
			c.up = make(chan struct{})
			for _, s := range c.subs {
				s.acked = false
			}
		}
	default:
		if up {
			close(c.up)
		}
	}
}

// waitUp waits until the client is connected.
func (c *Client) waitUp(ctx context.Context) error {
	if !c.running.Load() {
		return &Error{Op: "wait for connection", Code: tether.DeviceNotOnline, Detail: "the client is not open: call Open (or Run) first"}
	}
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return &Error{Op: "wait for connection", Code: tether.DeviceNotOnline, Detail: "the client is not connected to the hub: " + ctx.Err().Error(), Err: ctx.Err()}
	}
}

// opContext bounds ctx by OpTimeout when it has no deadline.
func (c *Client) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.o.OpTimeout)
}

// wait waits for a paho token within ctx.
func wait(ctx context.Context, t mqtt.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}
