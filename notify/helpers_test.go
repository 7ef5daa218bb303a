package notify

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"strconv"
)

func itoa(i int) string { return strconv.Itoa(i) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func mailTLS(cas *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: cas, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}
