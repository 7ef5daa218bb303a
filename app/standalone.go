package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
)

// StandaloneOptions configure the Singpass sandbox served on its own,
// for integrators who point other software (or a kiosk on another port)
// at it.
type StandaloneOptions struct {
	Listen     string // address to serve on
	Dir        string // where the sandbox keeps its keys and the kiosk configs it writes
	Callback   string // the relying party's registered callback (and FAPI redirect) URL
	RPCert     string // the relying party's certificate or public key; "": the sandbox's test kiosk key
	Attributes []string
	JWKS       string // the FAPI client's JWKS URL; "": /.well-known/jwks.json on the callback's host
	Log        *slog.Logger
}

// Standalone is the sandbox on its own server, with the two kiosk configs
// (Verify and FAPI) it wrote for a kiosk that talks to it.
type Standalone struct {
	Sandbox                    *sandbox.Sandbox
	Keys                       *sandbox.Keys
	Base                       string // the sandbox's URL
	Callback, JWKS             string
	ConfigPath, FAPIConfigPath string
	ln                         net.Listener
}

// NewStandalone binds the address, loads or makes the keys and writes the
// kiosk configs.
func NewStandalone(o StandaloneOptions) (*Standalone, error) {
	cb, err := url.Parse(o.Callback)
	if err != nil || cb.Host == "" || (cb.Scheme != "http" && cb.Scheme != "https") {
		return nil, fmt.Errorf("--callback %q is not an absolute http(s) URL", o.Callback)
	}
	if o.JWKS == "" {
		o.JWKS = cb.Scheme + "://" + cb.Host + "/.well-known/jwks.json"
	}
	keys, err := sandbox.LoadOrCreateKeys(o.Dir, time.Now())
	if err != nil {
		return nil, err
	}
	rpKey := &keys.Kiosk.PublicKey
	if o.RPCert != "" {
		if rpKey, _, err = pki.LoadPublicKey(o.RPCert, time.Now()); err != nil {
			return nil, err
		}
	}
	pinHash, err := kiosk.HashPIN(config.SandboxPIN)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, err
	}
	s := &Standalone{Keys: keys, Base: "http://" + ln.Addr().String() + config.SandboxPrefix, Callback: o.Callback, JWKS: o.JWKS,
		ConfigPath: filepath.Join(o.Dir, "kiosk.toml"), FAPIConfigPath: filepath.Join(o.Dir, "kiosk-fapi.toml"), ln: ln}
	s.Sandbox, err = sandbox.New(sandbox.Options{
		Prefix: config.SandboxPrefix, PublicURL: s.Base, Key: keys.NDI, Cert: keys.NDICert, Logger: o.Log,
		Client: sandbox.Client{ID: config.SandboxClientID, Secret: config.SandboxClientSecret, CallbackURL: o.Callback,
			PublicKey: rpKey, Attributes: o.Attributes},
		// The same relying party as a Myinfo app under FAPI 2.0: its keys
		// are fetched from its JWKS URL, as Singpass does.
		FAPI: &sandbox.FAPIClient{ID: config.SandboxFAPIClientID, RedirectURI: o.Callback, JWKSURL: o.JWKS,
			Scopes: config.SandboxScopes()},
	})
	for path, text := range map[string]string{s.ConfigPath: sandboxKioskConfig(s.Base, cb, keys, pinHash),
		s.FAPIConfigPath: sandboxFAPIConfig(s.Base, cb, o.JWKS, pinHash)} {
		if err == nil {
			err = writeFileAtomic(path, []byte(text), 0o600)
		}
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	return s, nil
}

// Summary is what an integrator needs to point software at the sandbox.
func (s *Standalone) Summary() string {
	sb, k := s.Sandbox, s.Keys
	return fmt.Sprintf(`Singpass sandbox serving on %[1]s/
  phone page:       %[1]s/
  QR base URL:      %[2]s
  token URL:        %[3]s
  person URL:       %[4]s
  NDI certificate:  %[5]s (also at %[1]s/cert.pem)
  test kiosk key:   %[6]s (certificate %[7]s)
  client id:        %[8]s
  client secret:    %[9]s
  callback URL:     %[10]s
  kiosk config:     %[11]s
Start a kiosk against it with: ndikiosk --config %[11]s (admin PIN %[12]s)
Myinfo under FAPI 2.0:
  issuer:           %[13]s
  client id:        %[14]s (redirect URI %[10]s, JWKS fetched from %[15]s)
  kiosk config:     %[16]s
`, s.Base, sb.QRBaseURL(), sb.TokenURL(), sb.PersonURL(), k.NDICertPath, k.KioskKeyPath, k.KioskCertPath,
		config.SandboxClientID, config.SandboxClientSecret, s.Callback, s.ConfigPath, config.SandboxPIN,
		sb.FAPIIssuer(), config.SandboxFAPIClientID, s.JWKS, s.FAPIConfigPath)
}

// Serve serves the sandbox until ctx ends, then shuts down within 5 s.
func (s *Standalone) Serve(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle(config.SandboxPrefix+"/", s.Sandbox)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 60 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// sandboxKioskConfig is a kiosk config file that talks to a standalone
// sandbox. Paths are relative to the file, which sits beside the keys.
func sandboxKioskConfig(base string, callback *url.URL, keys *sandbox.Keys, pinHash string) string {
	path := callback.EscapedPath()
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf(`# Written by "ndikiosk sandbox": a kiosk that talks to the standalone sandbox at %[1]s.
[kiosk]
listen = %[2]q
callback_path = %[3]q

[admin]
pin_hash = %[12]q  # the sandbox PIN, 1234

[verify]
client_id = %[4]q
client_secret = %[5]q
private_key = %[6]q
ndi_cert = %[7]q
callback_url = %[8]q
token_url = %[9]q
person_url = %[10]q
qr_base_url = %[11]q
qr_lifetime = "120s"
`, base, callback.Host, path, config.SandboxClientID, config.SandboxClientSecret,
		filepath.Base(keys.KioskKeyPath), filepath.Base(keys.NDICertPath), callback.String(),
		base+"/token", base+"/person", base+"/sgverify", pinHash)
}

// sandboxFAPIConfig is the same kiosk as a Myinfo app under FAPI 2.0: its
// keys are made beside the file on first start and published at the JWKS
// path the sandbox fetches.
func sandboxFAPIConfig(base string, callback *url.URL, jwks, pinHash string) string {
	jwksPath := "/.well-known/jwks.json"
	if u, err := url.Parse(jwks); err == nil && u.Host == callback.Host && u.Path != "" {
		jwksPath = u.EscapedPath()
	}
	return fmt.Sprintf(`# Written by "ndikiosk sandbox": a Myinfo (FAPI 2.0) kiosk that talks to the standalone sandbox at %[1]s.
[kiosk]
provider = "fapi"
listen = %[2]q

[admin]
pin_hash = %[3]q  # the sandbox PIN, 1234

[fapi]
issuer = %[4]q
client_id = %[5]q
redirect_uri = %[6]q
signing_key = "fapi-signing.pem"       # made on first start
encryption_key = "fapi-encryption.pem" # made on first start
jwks_path = %[7]q
`, base, callback.Host, pinHash, base+"/fapi", config.SandboxFAPIClientID, callback.String(), jwksPath)
}
