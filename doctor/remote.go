package doctor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"ndikiosk/config"
	"ndikiosk/hub"
	"ndikiosk/remote"
	"ndikiosk/storage"
)

// remoteKiosk checks a kiosk that is a hub's screen ([hub] url): the hub
// answers, the kiosk is enrolled or has a token to enrol with, the hub
// takes its credential, and it holds no Singpass key and no visit data.
func (d *doctor) remoteKiosk(cfg *config.Config) {
	base := strings.TrimRight(cfg.Hub.URL, "/")
	client := &http.Client{Timeout: 10 * time.Second}
	role, status, err := getJSONRole(client, base+"/healthz")
	hubUp := false
	switch {
	case err != nil:
		d.fail("hub.url", fmt.Sprintf("%s/healthz does not answer: %v; check the address, this network's DNS and firewall (the kiosk connects "+
			"out over https), and that the hub runs; meanwhile the kiosk shows the operator's alternative", base, err))
	case status != http.StatusOK || role != "hub":
		d.fail("hub.url", fmt.Sprintf("%s/healthz answers HTTP %d but not as a hub (role %q): is hub.url the hub's public address?", base, status, role))
	default:
		hubUp = true
		d.ok("hub.url", base+" answers as a hub")
	}
	d.remoteDataDir(cfg.Kiosk.DataDir)
	d.enrolment(cfg, client, base, hubUp)
	d.noSecrets(cfg)
	d.remoteCamera(cfg)
}

// remoteDataDir: the folder must take the credential and the hub's last
// settings, nothing else.
func (d *doctor) remoteDataDir(dir string) {
	d.writable(dir, " (the kiosk keeps its hub credential there)")
}

// enrolment: a kept credential that the hub still takes, or a token to
// trade for one. The credential is tried on the hub's connect route
// without opening a channel, so a running kiosk is not disconnected and
// no token is used up.
func (d *doctor) enrolment(cfg *config.Config, client *http.Client, base string, hubUp bool) {
	path := filepath.Join(cfg.Kiosk.DataDir, remote.CredentialFile)
	b, err := os.ReadFile(path)
	cred := string(bytes.TrimSpace(b))
	switch {
	case err == nil && cred != "":
		if st, err := os.Stat(path); err == nil && runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
			d.fail("hub credential", fmt.Sprintf("%s is open to other users (%04o): chmod 600 %s", path, st.Mode().Perm(), path))
		}
	case cfg.Hub.Token != "":
		d.ok("hub credential", "not enrolled yet: the kiosk trades the token in hub.token for its credential when it first connects")
		return
	default:
		d.fail("hub credential", "this kiosk is not enrolled: run `ndikiosk hub enrol --config hub.toml --kiosk ID` on the hub and put the token "+
			"it prints in [hub] token (or NDIKIOSK_HUB_TOKEN)")
		return
	}
	if !hubUp {
		d.ok("hub credential", "kept in "+path+" (not tried: the hub does not answer)")
		return
	}
	req, _ := http.NewRequest(http.MethodGet, base+hub.ConnectPath, nil)
	req.Header.Set("Authorization", "Bearer "+cred)
	resp, err := client.Do(req)
	if err != nil {
		d.fail("hub credential", fmt.Errorf("could not try it: %w", unwrapURL(err)))
		return
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized && cfg.Hub.Token != "":
		d.fail("hub credential", "the hub refuses the kept credential (revoked?): the kiosk deletes it and tries the token in hub.token; "+
			"if that one is used too, enrol the kiosk again")
	case resp.StatusCode == http.StatusUnauthorized:
		d.fail("hub credential", "the hub refuses this kiosk's credential (revoked?): enrol it again with `ndikiosk hub enrol` and put the new token in [hub] token")
	case resp.StatusCode >= 500:
		d.fail("hub credential", fmt.Sprintf("the hub cannot check kiosks now (HTTP %d): look at its database", resp.StatusCode))
	default:
		d.ok("hub credential", "kept in "+path+"; the hub takes it")
	}
}

// noSecrets: a hub's screen holds no Singpass key and no visit data, so
// that a stolen kiosk leaks nothing; files left from a standalone past
// are named.
func (d *doctor) noSecrets(cfg *config.Config) {
	var found []string
	for _, kv := range [][2]string{{"verify.client_secret", cfg.Verify.ClientSecret}, {"verify.private_key", cfg.Verify.PrivateKey},
		{"fapi.signing_key", cfg.FAPI.SigningKey}, {"fapi.encryption_key", cfg.FAPI.EncryptionKey},
		{"face.client_secret", cfg.Face.ClientSecret}, {"face.cert", cfg.Face.Cert}} {
		if kv[1] != "" {
			found = append(found, kv[0])
		}
	}
	dir := cfg.Kiosk.DataDir
	for _, f := range []string{filepath.Join("fapi", "signing.pem"), filepath.Join("fapi", "encryption.pem")} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			found = append(found, filepath.Join(dir, f))
		}
	}
	if len(found) > 0 {
		d.fail("no Singpass keys", "a hub's screen holds none, but this kiosk has "+strings.Join(found, ", ")+
			": remove them (the hub holds the keys; a stolen kiosk must leak none)")
	} else {
		d.ok("no Singpass keys", "none in the config or the data folder")
	}
	var logs []string
	for _, f := range []string{storage.DBFile, storage.KeyFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			logs = append(logs, filepath.Join(dir, f))
		}
	}
	if len(logs) > 0 {
		d.fail("no visit data", "a visit log from this kiosk's standalone days is still here ("+strings.Join(logs, ", ")+
			"): export it with `ndikiosk export --data-dir "+dir+"`, then delete it; a hub's screen keeps no visits")
	} else {
		d.ok("no visit data", "the hub keeps the visits")
	}
}

// remoteCamera checks the camera when the hub last said it uses Face.
func (d *doctor) remoteCamera(cfg *config.Config) {
	b, err := os.ReadFile(filepath.Join(cfg.Kiosk.DataDir, remote.SettingsFile))
	var st hub.Settings
	if err != nil || json.Unmarshal(b, &st) != nil || !st.Face {
		return
	}
	setting := cfg.CameraSetting()
	if st.Sandbox && cfg.Face.Camera == "" {
		setting = "synthetic"
	}
	d.camera(cfg, setting, "the hub uses SingPass Face, which takes a still from this kiosk's camera: ", " for the hub's Face step")
}
