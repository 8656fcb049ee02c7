package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// SMTPConfig is the mail server email receivers are sent through. With
// Addr empty, email receivers fail (and are retried) with an error that
// says so.
type SMTPConfig struct {
	Addr     string        // host:port, such as smtp.example.com:587
	From     string        // the sender address; required with Addr
	User     string        // "": no authentication
	Password tether.Secret // with User; sent only over TLS (or to loopback)
	// TLS configures STARTTLS, used whenever the server offers it; nil:
	// the system roots and Addr's host name.
	TLS *tls.Config
	// Hello is the name given in EHLO; "": localhost.
	Hello string
}

// configured reports whether email can be sent.
func (c SMTPConfig) configured() bool { return c.Addr != "" }

// Validate checks the configuration: the flags' error messages.
func (c SMTPConfig) Validate() error {
	if c.Addr == "" {
		if c.From != "" || c.User != "" || c.Password != "" {
			return errors.New("--smtp-from, --smtp-user and --smtp-password need --smtp-addr")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--smtp-addr %q is not host:port (such as smtp.example.com:587): %v", c.Addr, err)
	}
	if c.From == "" {
		return errors.New("--smtp-addr needs --smtp-from, the sender address of alert emails")
	}
	if _, err := checkAddress(c.From); err != nil {
		return fmt.Errorf("--smtp-from: %v", err)
	}
	if (c.User == "") != (c.Password == "") {
		return errors.New("--smtp-user and --smtp-password go together")
	}
	return nil
}

// sendEmail sends a to one address and returns the SMTP reply code of a
// failure (0 when there was none) and whether the failure is final (a
// 5xx reply).
func sendEmail(ctx context.Context, c SMTPConfig, to string, a Alert, resourceID string, now time.Time) (int, bool, error) {
	if !c.configured() {
		return 0, false, errors.New("email is not configured on this hub: start tether serve with --smtp-addr and --smtp-from")
	}
	host, _, _ := net.SplitHostPort(c.Addr)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return 0, false, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		return smtpResult(err)
	}
	defer cl.Close()
	hello := c.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := cl.Hello(hello); err != nil {
		return smtpResult(err)
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		cfg := c.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := cl.StartTLS(cfg); err != nil {
			return smtpResult(fmt.Errorf("STARTTLS: %w", err))
		}
	}
	if c.User != "" {
		if ok, _ := cl.Extension("AUTH"); !ok {
			return 0, true, errors.New("the SMTP server offers no AUTH, but --smtp-user is set")
		}
		if err := cl.Auth(smtp.PlainAuth("", c.User, c.Password.Reveal(), host)); err != nil {
			return smtpResult(fmt.Errorf("SMTP authentication: %w", err))
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return smtpResult(err)
	}
	if err := cl.Rcpt(to); err != nil {
		return smtpResult(err)
	}
	w, err := cl.Data()
	if err != nil {
		return smtpResult(err)
	}
	if _, err := w.Write(emailMessage(c.From, to, a, resourceID, now)); err != nil {
		return smtpResult(err)
	}
	if err := w.Close(); err != nil {
		return smtpResult(err)
	}
	cl.Quit() // the message is accepted; a failed QUIT changes nothing
	return 250, false, nil
}

// smtpResult maps an SMTP error to its reply code and finality.
func smtpResult(err error) (int, bool, error) {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code, te.Code >= 500, err
	}
	return 0, false, err
}

// headerValue removes what could break out of a header line.
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// emailMessage is the RFC 5322 message of an alert email.
func emailMessage(from, to string, a Alert, resourceID string, now time.Time) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", to)
	h("Subject", mime.QEncoding.Encode("utf-8", headerValue("[Tether] "+summary(a))))
	h("Date", now.UTC().Format(time.RFC1123Z))
	h("Message-ID", fmt.Sprintf("<%s.%s.%d@tether>", a.ID(), strings.ToLower(a.State), now.UnixNano()))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("X-Tether-Alert-Rule", mime.QEncoding.Encode("utf-8", headerValue(a.RuleName)))
	h("X-Tether-Alert-State", a.State)
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(emailBody(a, resourceID), "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}
