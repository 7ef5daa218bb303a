// Package mailpittest runs a real SMTP server for tests and benchmarks:
// Mailpit (github.com/axllent/mailpit) as a process on free loopback
// ports, its SMTP side optionally offering STARTTLS with a throwaway
// certificate, and its HTTP API read back to see what arrived. Nothing is
// mocked: the notifier talks SMTP to it as it would to the venue's relay.
//
// The binary is found, in order, at $NDIKIOSK_MAILPIT, on $PATH, or in the
// user's cache folder (ndikiosk-tools/mailpit-VERSION/mailpit); when none
// is there it is built once from the Go module proxy with `go install`
// (about a minute), outside this module so that Mailpit's dependencies
// never enter ndikiosk's go.mod. scripts/install-deps builds it too.
package mailpittest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Version is the Mailpit release the harness builds.
const Version = "v1.33.1"

// Binary returns the path of a Mailpit binary, building it when needed.
func Binary() (string, error) {
	if p := os.Getenv("NDIKIOSK_MAILPIT"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	// The user's cache folder, and the account's own one in case a test
	// moved HOME: where scripts/install-deps builds it.
	var dirs []string
	if cache, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(cache, "ndikiosk-tools", "mailpit-"+Version))
	}
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		dirs = append(dirs, filepath.Join(u.HomeDir, ".cache", "ndikiosk-tools", "mailpit-"+Version))
	}
	dirs = append(dirs, filepath.Join(os.TempDir(), "ndikiosk-tools", "mailpit-"+Version))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "mailpit")); err == nil {
			return filepath.Join(d, "mailpit"), nil
		}
	}
	dir := dirs[0]
	bin := filepath.Join(dir, "mailpit")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// One build at a time: test packages run in parallel.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/axllent/mailpit@"+Version)
	cmd.Dir = dir // no go.mod here: the build never touches ndikiosk's
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build mailpit %s (go install from the module proxy): %w\n%s", Version, err, out)
	}
	return bin, nil
}

// Options choose how the SMTP side behaves.
type Options struct {
	STARTTLS        bool // offer STARTTLS with a throwaway certificate (CertPool trusts it)
	RequireSTARTTLS bool // refuse mail from a client that did not start TLS
}

// Server is a running Mailpit.
type Server struct {
	SMTPHost string // 127.0.0.1
	SMTPPort int
	API      string         // http://127.0.0.1:PORT
	CertPool *x509.CertPool // trusts the STARTTLS certificate; nil without STARTTLS
	CAFile   string         // the certificate as a PEM file; "" without STARTTLS

	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// TB is the part of testing.TB the harness needs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Start starts Mailpit for a test; it is stopped when the test ends.
func Start(t TB, o Options) *Server {
	t.Helper()
	s, err := StartDir(t.TempDir(), o)
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartDir starts Mailpit with its files in dir; Stop ends it.
func StartDir(dir string, o Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	s := &Server{SMTPHost: "127.0.0.1", dir: dir}
	var tlsArgs []string
	if o.STARTTLS || o.RequireSTARTTLS {
		cert, key, err := s.writeCert()
		if err != nil {
			return nil, err
		}
		tlsArgs = []string{"--smtp-tls-cert", cert, "--smtp-tls-key", key}
		if o.RequireSTARTTLS {
			tlsArgs = append(tlsArgs, "--smtp-require-starttls")
		}
	}
	var last error
	for try := 0; try < 3; try++ { // a port taken between the probe and the start: try others
		if last = s.start(bin, tlsArgs); last == nil {
			return s, nil
		}
	}
	return nil, last
}

func (s *Server) start(bin string, tlsArgs []string) error {
	smtpPort, err := freePort()
	if err != nil {
		return err
	}
	httpPort, err := freePort()
	if err != nil {
		return err
	}
	s.SMTPPort = smtpPort
	s.API = "http://127.0.0.1:" + strconv.Itoa(httpPort)
	args := append([]string{
		"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort), "--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
		"--database", filepath.Join(s.dir, "mailpit.db"), "--max", "0", "--quiet",
		"--disable-version-check", "--smtp-disable-rdns",
	}, tlsArgs...)
	logf, err := os.Create(filepath.Join(s.dir, "mailpit.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "mailpit.log"))
			return fmt.Errorf("mailpit exited at start: %s", bytes.TrimSpace(log))
		default:
		}
		if s.ready() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	return errors.New("mailpit did not answer within 30 s")
}

func (s *Server) ready() bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(s.SMTPHost, strconv.Itoa(s.SMTPPort)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := http.Get(s.API + "/api/v1/info")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends Mailpit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
}

// writeCert makes a throwaway CA-less certificate for 127.0.0.1 and
// localhost and trusts it in CertPool.
func (s *Server) writeCert() (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "mailpit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(s.dir, "smtp.crt"), filepath.Join(s.dir, "smtp.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return "", "", err
	}
	cert, _ := x509.ParseCertificate(der)
	s.CertPool = x509.NewCertPool()
	s.CertPool.AddCert(cert)
	s.CAFile = certFile
	return certFile, keyFile, nil
}

// TLSConfig trusts the server's STARTTLS certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CertPool, ServerName: s.SMTPHost, MinVersion: tls.VersionTLS12}
}

// Address is one mailbox in a message summary.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message as Mailpit's list shows it.
type Summary struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
}

// Message is one message, whole.
type Message struct {
	Summary
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

// Messages lists every message received, newest first.
func (s *Server) Messages() ([]Summary, error) {
	var all []Summary
	for start := 0; ; {
		var page struct {
			Total    int       `json:"total"`
			Messages []Summary `json:"messages"`
		}
		if err := s.get(fmt.Sprintf("/api/v1/messages?start=%d&limit=500", start), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Messages...)
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			return all, nil
		}
	}
}

// Count is how many messages Mailpit holds.
func (s *Server) Count() (int, error) {
	var page struct {
		Total int `json:"total"`
	}
	err := s.get("/api/v1/messages?limit=1", &page)
	return page.Total, err
}

// Message reads one message by Mailpit's id.
func (s *Server) Message(id string) (Message, error) {
	var m Message
	err := s.get("/api/v1/message/"+id, &m)
	return m, err
}

// Raw is one message's source as received.
func (s *Server) Raw(id string) ([]byte, error) {
	resp, err := http.Get(s.API + "/api/v1/message/" + id + "/raw")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return b.Bytes(), err
}

func (s *Server) get(path string, v any) error {
	resp, err := http.Get(s.API + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
