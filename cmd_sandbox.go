package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"ndikiosk/config"
	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/ndi/pki"
	"ndikiosk/ndi/sandbox"
)

// runSandbox serves the Singpass sandbox on its own, for integrators who
// point other software (or a kiosk on another port) at it.
func runSandbox(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sandbox", stderr)
	listen := fs.String("listen", "127.0.0.1:5156", "address to serve on")
	dir := fs.String("dir", filepath.Join(config.DefaultDataDir(), "sandbox"), "where the sandbox keeps its keys and the kiosk config it writes")
	callback := fs.String("callback", "http://127.0.0.1:8080/callback", "the relying party's registered callback URL")
	rpCert := fs.String("rp-cert", "", "the relying party's certificate or public key (default: the sandbox's test kiosk key)")
	attrs := fs.String("attributes", strings.Join(ndi.Attributes, ","), "attributes registered for the client")
	jwks := fs.String("jwks", "", "the Myinfo (FAPI) client's JWKS URL (default: /.well-known/jwks.json on the callback's host)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cb, err := url.Parse(*callback)
	if err != nil || cb.Host == "" || (cb.Scheme != "http" && cb.Scheme != "https") {
		return fmt.Errorf("--callback %q is not an absolute http(s) URL", *callback)
	}
	if *jwks == "" {
		*jwks = cb.Scheme + "://" + cb.Host + "/.well-known/jwks.json"
	}
	keys, err := sandbox.LoadOrCreateKeys(*dir, now())
	if err != nil {
		return err
	}
	rpKey := &keys.Kiosk.PublicKey
	if *rpCert != "" {
		if rpKey, _, err = pki.LoadPublicKey(*rpCert, now()); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + config.SandboxPrefix
	sb, err := sandbox.New(sandbox.Options{
		Prefix: config.SandboxPrefix, PublicURL: base, Key: keys.NDI, Cert: keys.NDICert,
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
		Client: sandbox.Client{ID: config.SandboxClientID, Secret: config.SandboxClientSecret, CallbackURL: *callback,
			PublicKey: rpKey, Attributes: strings.Split(*attrs, ",")},
		// The same relying party as a Myinfo app under FAPI 2.0: its keys
		// are fetched from its JWKS URL, as Singpass does.
		FAPI: &sandbox.FAPIClient{ID: config.SandboxFAPIClientID, RedirectURI: *callback, JWKSURL: *jwks,
			Scopes: config.SandboxScopes()},
	})
	if err != nil {
		ln.Close()
		return err
	}
	pinHash, err := kiosk.HashPIN(config.SandboxPIN)
	if err != nil {
		ln.Close()
		return err
	}
	cfgPath, fapiPath := filepath.Join(*dir, "kiosk.toml"), filepath.Join(*dir, "kiosk-fapi.toml")
	for path, text := range map[string]string{cfgPath: sandboxKioskConfig(base, cb, keys, pinHash),
		fapiPath: sandboxFAPIConfig(base, cb, *jwks, pinHash)} {
		if err := writeFileAtomic(path, []byte(text), 0o600); err != nil {
			ln.Close()
			return err
		}
	}
	fmt.Fprintf(stdout, `Singpass sandbox serving on %[1]s/
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
`, base, sb.QRBaseURL(), sb.TokenURL(), sb.PersonURL(), keys.NDICertPath, keys.KioskKeyPath, keys.KioskCertPath,
		config.SandboxClientID, config.SandboxClientSecret, *callback, cfgPath, config.SandboxPIN,
		sb.FAPIIssuer(), config.SandboxFAPIClientID, *jwks, fapiPath)
	mux := http.NewServeMux()
	mux.Handle(config.SandboxPrefix+"/", sb)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 60 * time.Second}
	ctx, stop := stopContext()
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// stopContext ends on Ctrl-C or SIGTERM; tests replace it.
var stopContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
