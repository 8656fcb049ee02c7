package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpPeer is a small SMTP server for tests, written with net/textproto:
// EHLO, STARTTLS, AUTH PLAIN (offered only over TLS), MAIL, RCPT, DATA,
// QUIT. It stands in for a mail server, which Debian cannot provide to a
// test without root; it is strict where the client must be (no AUTH
// before TLS, no MAIL before AUTH when a user is set).
type smtpPeer struct {
	l         net.Listener
	tls       *tls.Config // nil: no STARTTLS
	user, pw  string      // "": no AUTH required
	rcptReply string      // "": 250

	mu   sync.Mutex
	msgs []smtpMessage
	log  []string // the verbs in order
}

type smtpMessage struct {
	from, to string
	tls      bool
	data     []byte
}

func mustStartSMTP(t *testing.T, p *smtpPeer) *smtpPeer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.l = l
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *smtpPeer) serve(conn net.Conn) {
	defer func() { conn.Close() }()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(conn)
	tp.PrintfLine("220 test.example ESMTP")
	var (
		onTLS, authed bool
		msg           smtpMessage
	)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		p.mu.Lock()
		p.log = append(p.log, verb)
		p.mu.Unlock()
		switch verb {
		case "EHLO":
			ext := []string{"test.example", "8BITMIME"}
			if p.tls != nil && !onTLS {
				ext = append(ext, "STARTTLS")
			}
			if p.user != "" && onTLS {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, p.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, tp, onTLS = tc, textproto.NewConn(tc), true
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, _ := base64.StdEncoding.DecodeString(resp)
			if !onTLS || mech != "PLAIN" || string(b) != "\x00"+p.user+"\x00"+p.pw {
				tp.PrintfLine("535 5.7.8 authentication failed")
				continue
			}
			authed = true
			tp.PrintfLine("235 2.7.0 ok")
		case "MAIL":
			if p.user != "" && !authed {
				tp.PrintfLine("530 5.7.0 authentication required")
				continue
			}
			msg = smtpMessage{from: arg, tls: onTLS}
			tp.PrintfLine("250 ok")
		case "RCPT":
			if p.rcptReply != "" {
				tp.PrintfLine("%s", p.rcptReply)
				continue
			}
			msg.to = arg
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			msg.data = data
			p.mu.Lock()
			p.msgs = append(p.msgs, msg)
			p.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 unknown")
		}
	}
}

func (p *smtpPeer) messages() []smtpMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]smtpMessage(nil), p.msgs...)
}

// selfSigned returns a server configuration for 127.0.0.1 and a client
// configuration that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

func TestEmailOverSTARTTLSWithAuth(t *testing.T) {
	srvTLS, cliTLS := selfSigned(t)
	p := mustStartSMTP(t, &smtpPeer{tls: srvTLS, user: "tether", pw: "hunter2"})
	f := mustNewFixture(t, func(o *Options) {
		o.SMTP = SMTPConfig{Addr: p.l.Addr().String(), From: "tether@example.com", User: "tether", Password: "hunter2", TLS: cliTLS}
	})
	f.mustCreate(t, "ops", email("On Call <oncall@example.com>"))
	f.mustNotify(t, []string{"ops"}, metricAlert())
	f.mustDispatch(t, t0)

	if h := f.mustHistory(t, "ops"); len(h) != 1 || h[0].Outcome != OutcomeDelivered || h[0].StatusCode != 250 {
		t.Fatalf("history = %+v, want one delivered email (250)", h)
	}
	msgs := p.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !m.tls || !strings.HasPrefix(m.from, "FROM:<tether@example.com>") || m.to != "TO:<oncall@example.com>" {
		t.Errorf("envelope = from %q to %q over TLS %v, want tether@ to oncall@ over TLS", m.from, m.to, m.tls)
	}
	parsed, err := mail.ReadMessage(strings.NewReader(string(m.data)))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, m.data)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if want := "[Tether] Fired: Sev2 devices-dropped (min connectedDeviceCount 10 < 15 over 5m0s)"; subject != want {
		t.Errorf("Subject = %q, want %q", subject, want)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	for _, want := range []string{"Alert rule:    devices-dropped", "State:         Fired", "Value:         10",
		"Condition:     < 15", "Link:          https://hub.example/portal/alerts/rule-1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestEmailReplies(t *testing.T) {
	for _, c := range []struct {
		name    string
		reply   string
		outcome string
		status  int
	}{
		{"550 is final", "550 5.1.1 no such user", OutcomeDead, 550},
		{"451 is retried", "451 4.3.0 try later", OutcomeRetry, 451},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := mustStartSMTP(t, &smtpPeer{rcptReply: c.reply})
			f := mustNewFixture(t, func(o *Options) { o.SMTP = SMTPConfig{Addr: p.l.Addr().String(), From: "tether@example.com"} })
			f.mustCreate(t, "ops", email("oncall@example.com"))
			f.mustNotify(t, []string{"ops"}, metricAlert())
			f.mustDispatch(t, t0)
			h := f.mustHistory(t, "ops")
			if len(h) != 1 || h[0].Outcome != c.outcome || h[0].StatusCode != c.status || !strings.Contains(h[0].Error, c.reply[4:]) {
				t.Fatalf("history = %+v, want %s with %d", h, c.outcome, c.status)
			}
		})
	}
}

// TestEmailNeverSendsThePasswordInTheClear refuses to authenticate to a
// server that offers no TLS (at a non-loopback name).
func TestEmailNeverSendsThePasswordInTheClear(t *testing.T) {
	p := mustStartSMTP(t, &smtpPeer{user: "tether", pw: "hunter2"})
	f := mustNewFixture(t, func(o *Options) {
		o.SMTP = SMTPConfig{Addr: p.l.Addr().String(), From: "tether@example.com", User: "tether", Password: "hunter2"}
	})
	f.mustCreate(t, "ops", email("oncall@example.com"))
	f.mustNotify(t, []string{"ops"}, metricAlert())
	f.mustDispatch(t, t0)
	h := f.mustHistory(t, "ops")
	if len(h) != 1 || h[0].Outcome == OutcomeDelivered || !strings.Contains(h[0].Error, "AUTH") {
		t.Fatalf("history = %+v, want a failure naming AUTH", h)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, v := range p.log {
		if v == "AUTH" || v == "MAIL" {
			t.Errorf("client sent %s to a server without TLS and AUTH; log %v", v, p.log)
		}
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  SMTPConfig
		want string
	}{
		{SMTPConfig{From: "a@b.example"}, "need --smtp-addr"},
		{SMTPConfig{Addr: "mail.example"}, "not host:port"},
		{SMTPConfig{Addr: "mail.example:25"}, "needs --smtp-from"},
		{SMTPConfig{Addr: "mail.example:25", From: "nobody"}, "--smtp-from"},
		{SMTPConfig{Addr: "mail.example:25", From: "a@b.example", User: "u"}, "go together"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
	if err := (SMTPConfig{Addr: "mail.example:587", From: "a@b.example", User: "u", Password: "p"}).Validate(); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
}
