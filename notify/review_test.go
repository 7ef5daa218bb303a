package notify

import (
	"context"
	"strconv"
	"testing"
)

// TestWebhookDeliveryIdIsSigned: the receiver de-duplicates by the
// delivery id, and the Ndikiosk-Delivery header is outside the signature:
// someone replaying a captured request within the tolerance could change
// it at will. The id is in the signed body too, equal to the header.
func TestWebhookDeliveryIdIsSigned(t *testing.T) {
	db, _, _ := open(t)
	rc := newReceiver(t)
	id := checkIn(t, db, "ref-1", "TAN AH KOW", "Ms Tan")
	drain(t, New(db, fast(Options{Webhook: rc.hook()})), 50)
	if len(rc.bad) != 0 || len(rc.got) != 1 {
		t.Fatalf("bad signatures %v, deliveries %d", rc.bad, len(rc.got))
	}
	var row int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT id FROM notify_outbox WHERE visit_id = $1 AND channel = 'webhook'`, id).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if got := rc.got[0].Delivery; got != row || rc.hdr[0].Get(DeliveryHeader) != strconv.FormatInt(row, 10) {
		t.Fatalf("signed delivery %d, header %q, want both %d", got, rc.hdr[0].Get(DeliveryHeader), row)
	}
}
