package verify

import (
	"testing"
	"time"

	"ndikiosk/ndi/jose"
)

// BenchmarkClientSide measures the kiosk's own work in one token + person
// exchange, without any server: signing both requests, verifying the
// access token, decrypting the JWE, verifying the inner JWS and parsing.
func BenchmarkClientSide(b *testing.B) {
	kiosk, ndi := testKeys(b)
	now := time.Now()
	c, err := New(Config{ClientID: "C", ClientSecret: "S", CallbackURL: "https://k.example/cb", TokenURL: "https://v.example/token",
		PersonURL: "https://v.example/person", Attributes: []string{"partialuinfin", "dob"}, Key: kiosk, NDIKey: &ndi.PublicKey})
	if err != nil {
		b.Fatal(err)
	}
	token, _ := jose.SignJSON(map[string]any{"sub": "S1234567D", "exp": now.Add(30 * time.Minute).Unix(), "scope": []string{"dob"}}, ndi)
	jws, _ := jose.SignJSON(map[string]any{"dob": map[string]string{"value": "1980-01-01"}, "partialuinfin": map[string]string{"value": "*****567D"}}, ndi)
	jwe, _ := jose.Encrypt(jws, &kiosk.PublicKey, jose.RSAOAEP, jose.A256GCM)
	form := map[string]string{"grant_type": "authorization_code", "code": "c0de", "redirect_uri": "https://k.example/cb",
		"client_id": "C", "client_secret": "S", "state": "k1-abc"}
	query := map[string]string{"client_id": "C", "attributes": "partialuinfin,dob", "txnNo": "0123456789"}
	for b.Loop() {
		if _, err := SignPKI(kiosk, "C", "POST", "https://v.example/token", form, now); err != nil {
			b.Fatal(err)
		}
		tok, err := c.verifyToken(string(token))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := SignPKI(kiosk, "C", "GET", "https://v.example/person/"+tok.subject, query, now); err != nil {
			b.Fatal(err)
		}
		if _, err := c.openPerson(jwe); err != nil {
			b.Fatal(err)
		}
	}
}
