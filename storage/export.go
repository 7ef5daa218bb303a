package storage

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
)

var exportHeader = []string{"id", "kiosk_id", "mode", "txn_ref", "attributes", "started_at", "decided_at",
	"checked_out_at", "outcome", "reason", "masked_id", "name", "host", "purpose", "face_result", "face_score"}

// exportRow is one visit as exported: decrypted, masked ids only, times in
// Singapore time, and no person key.
type exportRow struct {
	ID           int64    `json:"id"`
	KioskID      string   `json:"kiosk_id"`
	Mode         string   `json:"mode"`
	TxnRef       string   `json:"txn_ref"`
	Attributes   []string `json:"attributes"`
	StartedAt    string   `json:"started_at"`
	DecidedAt    string   `json:"decided_at"`
	CheckedOutAt string   `json:"checked_out_at,omitempty"`
	Outcome      string   `json:"outcome"`
	Reason       string   `json:"reason,omitempty"`
	MaskedID     string   `json:"masked_id,omitempty"`
	Name         string   `json:"name,omitempty"`
	Host         string   `json:"host,omitempty"`
	Purpose      string   `json:"purpose,omitempty"`
	FaceResult   string   `json:"face_result,omitempty"`
	FaceScore    *float64 `json:"face_score,omitempty"`
}

func sgt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(ndi.SGT).Format(time.RFC3339)
}

func toRow(v kiosk.Visit) exportRow {
	r := exportRow{ID: v.ID, KioskID: v.KioskID, Mode: v.Mode, TxnRef: v.TxnRef, Attributes: v.Attributes,
		StartedAt: sgt(v.StartedAt), DecidedAt: sgt(v.DecidedAt), CheckedOutAt: sgt(v.CheckedOutAt),
		Outcome: string(v.Outcome), Reason: v.Reason, MaskedID: v.MaskedID, Name: v.Name, Host: v.Host,
		Purpose: v.Purpose, FaceResult: v.FaceResult}
	if v.FaceResult != "" {
		r.FaceScore = &v.FaceScore
	}
	return r
}

// Export writes the visits that match f, oldest first, as CSV or JSON
// (one array). It streams: memory does not grow with the log.
func (d *DB) Export(ctx context.Context, w io.Writer, f kiosk.VisitFilter, format string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case "csv":
		cw := csv.NewWriter(bw)
		cw.Write(exportHeader)
		err := d.each(ctx, f, "ASC", func(v kiosk.Visit) error {
			r := toRow(v)
			score := ""
			if r.FaceScore != nil {
				score = strconv.FormatFloat(*r.FaceScore, 'f', 3, 64)
			}
			return cw.Write([]string{strconv.FormatInt(r.ID, 10), r.KioskID, r.Mode, r.TxnRef, strings.Join(r.Attributes, " "),
				r.StartedAt, r.DecidedAt, r.CheckedOutAt, r.Outcome, r.Reason, csvSafe(r.MaskedID), csvSafe(r.Name),
				csvSafe(r.Host), csvSafe(r.Purpose), r.FaceResult, score})
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		if err != nil {
			return err
		}
	case "json":
		bw.WriteString("[")
		first := true
		err := d.each(ctx, f, "ASC", func(v kiosk.Visit) error {
			b, err := json.Marshal(toRow(v))
			if err != nil {
				return err
			}
			if !first {
				bw.WriteString(",")
			}
			first = false
			bw.WriteString("\n")
			_, err = bw.Write(b)
			return err
		})
		if err != nil {
			return err
		}
		bw.WriteString("\n]\n")
	default:
		return fmt.Errorf("format %q: want csv or json", format)
	}
	return bw.Flush()
}

// csvSafe stops a spreadsheet from reading a value as a formula (a name
// that starts with =, +, - or @ is data, not code).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
