package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// SMTP sends notifications by email.
type SMTP struct {
	Host     string
	Port     int
	Username string // "" for no AUTH
	Password string
	From     string // the sender's address, e.g. reception@example.sg
	// NoTLS sends without STARTTLS; allowed only for a relay on loopback.
	// Otherwise STARTTLS is required: a server that does not offer it gets
	// nothing, and the mail is retried.
	NoTLS   bool
	Timeout time.Duration // for the connection and for each message; default 30 s
	TLS     *tls.Config   // the trust for STARTTLS (nil: the system's roots)
}

// LoadCAs reads a PEM file of certificates to trust for STARTTLS (a
// venue's private mail relay); "" is nil, the system's roots.
func LoadCAs(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// letter is one email to send.
type letter struct {
	to  string
	msg Message
}

// sendError is a failed send: permanent ones are not retried.
type sendError struct {
	msg       string
	permanent bool
}

func (e *sendError) Error() string { return e.msg }

func transient(format string, args ...any) error {
	return &sendError{msg: fmt.Sprintf(format, args...)}
}

func permanent(format string, args ...any) error {
	return &sendError{msg: fmt.Sprintf(format, args...), permanent: true}
}

func isPermanent(err error) bool {
	var se *sendError
	return errors.As(err, &se) && se.permanent
}

func (s *SMTP) timeout() time.Duration {
	if s.Timeout <= 0 {
		return 30 * time.Second
	}
	return s.Timeout
}

// domain is the part of From after the @, for Message-IDs.
func (s *SMTP) domain() string {
	if i := strings.LastIndex(s.From, "@"); i >= 0 {
		return s.From[i+1:]
	}
	return "ndikiosk.invalid"
}

// build is the message's source: headers and a quoted-printable UTF-8
// body. The Message-ID is the outbox row's, so a retry that reaches the
// host twice is recognisably the same message.
func (s *SMTP) build(l letter, now time.Time) ([]byte, error) {
	m := l.msg
	if err := headerSafe(s.From, l.to, m.Name, m.Site, m.Kiosk, m.Host); err != nil {
		return nil, permanent("delivery %d: %v", m.Delivery, err)
	}
	if a, err := mail.ParseAddress(l.to); err != nil || a.Address != l.to {
		return nil, permanent("delivery %d: the host's email is not one address", m.Delivery)
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", fmt.Sprintf("<notify-%d@%s>", m.Delivery, s.domain()))
	h("From", (&mail.Address{Name: "Visitor kiosk", Address: s.From}).String())
	h("To", (&mail.Address{Address: l.to}).String())
	h("Subject", mime.QEncoding.Encode("utf-8", m.subject()))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=UTF-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	h("X-Ndikiosk-Delivery", strconv.FormatInt(m.Delivery, 10))
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(m.text()))
	qp.Close()
	return b.Bytes(), nil
}

// session is one SMTP connection, through which a batch goes.
type session struct {
	s    *SMTP
	conn net.Conn
	c    *smtp.Client
}

// dial connects, says hello, starts TLS (unless NoTLS) and authenticates.
// Its errors are transient: the mail server may be back later.
func (s *SMTP) dial(ctx context.Context) (*session, error) {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	d := net.Dialer{Timeout: s.timeout()}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, transient("mail server %s: %v", addr, err)
	}
	conn.SetDeadline(time.Now().Add(s.timeout()))
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return nil, transient("mail server %s: greeting: %v", addr, err)
	}
	ss := &session{s: s, conn: conn, c: c}
	if err := ss.start(addr); err != nil {
		ss.close()
		return nil, err
	}
	return ss, nil
}

func (ss *session) start(addr string) error {
	s := ss.s
	name, _ := os.Hostname()
	if name == "" || strings.ContainsAny(name, "\r\n ") {
		name = "localhost"
	}
	if err := ss.c.Hello(name); err != nil {
		return transient("mail server %s: EHLO: %v", addr, err)
	}
	if !s.NoTLS {
		if ok, _ := ss.c.Extension("STARTTLS"); !ok {
			return transient("mail server %s does not offer STARTTLS (notify.smtp.starttls is \"required\")", addr)
		}
		tc := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
		if s.TLS != nil {
			tc = s.TLS.Clone()
			if tc.ServerName == "" {
				tc.ServerName = s.Host
			}
		}
		if err := ss.c.StartTLS(tc); err != nil {
			return transient("mail server %s: STARTTLS: %v", addr, err)
		}
	}
	if s.Username != "" {
		if err := ss.c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			// The server's reply, never the password.
			return transient("mail server %s: AUTH as %s refused: %s", addr, s.Username, replyOf(err))
		}
	}
	return nil
}

func (ss *session) close() {
	ss.c.Quit()
	ss.c.Close()
}

// send sends one letter on the session. A 5xx reply to the sender, the
// recipient or the data is permanent; anything else is transient and may
// have broken the session (ok is false then).
func (ss *session) send(l letter, body []byte) (ok bool, err error) {
	ss.conn.SetDeadline(time.Now().Add(ss.s.timeout()))
	step := func(what string, err error) (bool, error) {
		var te *textproto.Error
		if errors.As(err, &te) {
			ss.c.Reset()
			if te.Code >= 500 {
				return true, permanent("delivery %d: mail server refused %s: %d %s", l.msg.Delivery, what, te.Code, te.Msg)
			}
			return true, transient("delivery %d: mail server deferred %s: %d %s", l.msg.Delivery, what, te.Code, te.Msg)
		}
		return false, transient("delivery %d: mail server connection lost at %s: %v", l.msg.Delivery, what, err)
	}
	if err := ss.c.Mail(ss.s.From); err != nil {
		return step("the sender", err)
	}
	if err := ss.c.Rcpt(l.to); err != nil {
		return step("the host's address", err)
	}
	w, err := ss.c.Data()
	if err != nil {
		return step("the message", err)
	}
	if _, err := w.Write(body); err != nil {
		return step("the message", err)
	}
	if err := w.Close(); err != nil {
		return step("the message", err)
	}
	return true, nil
}

func replyOf(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("%d %s", te.Code, te.Msg)
	}
	return "connection failed"
}

// sendBatch sends the letters over as few connections as it can, calling
// done for each with its result as soon as it is known. Once stop says so,
// after the first letter, the rest are done with errNotTried.
func (s *SMTP) sendBatch(ctx context.Context, letters []letter, stop func() bool, done func(i int, err error)) {
	var ss *session
	defer func() {
		if ss != nil {
			ss.close()
		}
	}()
	for i, l := range letters {
		if i > 0 && stop() {
			for j := i; j < len(letters); j++ {
				done(j, errNotTried)
			}
			return
		}
		body, err := s.build(l, time.Now())
		if err != nil {
			done(i, err)
			continue
		}
		if ss == nil {
			if ss, err = s.dial(ctx); err != nil {
				// The server cannot be reached: every letter left waits.
				for j := i; j < len(letters); j++ {
					done(j, err)
				}
				return
			}
		}
		ok, err := ss.send(l, body)
		if !ok {
			ss.c.Close()
			ss = nil
		}
		done(i, err)
	}
}
