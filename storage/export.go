package storage

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
)

var exportHeader = []string{"id", "kiosk_id", "mode", "txn_ref", "attributes", "started_at", "decided_at",
	"checked_out_at", "outcome", "reason", "masked_id", "name", "host", "purpose", "face_result", "face_score", "sandbox", "site"}

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
	Sandbox      bool     `json:"sandbox"`
	Site         string   `json:"site,omitempty"` // a hub's: the kiosk's venue
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
		Purpose: v.Purpose, FaceResult: v.FaceResult, Sandbox: v.Sandbox, Site: v.Site}
	if v.FaceResult != "" {
		r.FaceScore = &v.FaceScore
	}
	return r
}

// Export writes the visits that match f, oldest first, as CSV or JSON
// (one array). It streams: memory does not grow with the log.
func (d *DB) Export(ctx context.Context, w io.Writer, f kiosk.VisitFilter, format string) error {
	return WriteExport(w, format, func(fn func(kiosk.Visit) error) error { return d.each(ctx, f, "ASC", fn) })
}

// WriteExport writes the visits each gives (it calls fn for each one, in
// order, and stops at fn's error) as CSV or JSON, in the columns and with
// the spreadsheet neutralisation of every visit log export, the kiosk's
// and the hub's.
func WriteExport(w io.Writer, format string, each func(fn func(kiosk.Visit) error) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case "csv":
		writeCSV(bw, exportHeader)
		err := each(func(v kiosk.Visit) error {
			r := toRow(v)
			score := ""
			if r.FaceScore != nil {
				score = strconv.FormatFloat(*r.FaceScore, 'f', 3, 64)
			}
			return writeCSV(bw, []string{strconv.FormatInt(r.ID, 10), r.KioskID, r.Mode, r.TxnRef, strings.Join(r.Attributes, " "),
				r.StartedAt, r.DecidedAt, r.CheckedOutAt, r.Outcome, r.Reason, r.MaskedID, r.Name,
				r.Host, r.Purpose, r.FaceResult, score, strconv.FormatBool(r.Sandbox), r.Site})
		})
		if err != nil {
			return err
		}
	case "json":
		bw.WriteString("[")
		first := true
		err := each(func(v kiosk.Visit) error {
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

// writeCSV writes one record with every field quoted and made safe for a
// spreadsheet (OWASP's CSV injection advice): quoting keeps a ; or , inside
// a value from starting a new cell where either is the list separator. It
// returns the writer's error so that a broken pipe stops the export.
func writeCSV(w *bufio.Writer, fields []string) error {
	for i, f := range fields {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteByte('"')
		w.WriteString(strings.ReplaceAll(csvSafe(f), `"`, `""`))
		w.WriteByte('"')
	}
	return w.WriteByte('\n')
}

// WriteCSVRecord writes one record exactly as the export does (every
// field quoted, control and bidi characters removed, formulas
// neutralised), for other lists staff download, such as the hub's hosts.
func WriteCSVRecord(w *bufio.Writer, fields []string) error { return writeCSV(w, fields) }

// csvSafe removes control characters (C0, DEL, C1: tab, CR, LF and NUL
// included) and bidirectional controls (U+202E and the rest, which make a
// cell read differently from what it holds), then stops a spreadsheet from
// reading the value as a formula: one that starts with =, +, - or @, after
// any leading whitespace, gets a leading '.
func csvSafe(s string) string {
	if plainASCII(s) {
		// Nothing to remove: printable ASCII holds no control character.
		if s != "" && strings.IndexByte("=+-@", s[0]) < 0 && s[0] != ' ' {
			return s
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, s)
	if t := strings.TrimLeftFunc(s, unicode.IsSpace); t != "" && strings.ContainsRune("=+-@", rune(t[0])) {
		return "'" + s
	}
	return s
}

// plainASCII reports whether s is printable ASCII only (space to ~), which
// most fields are: csvSafe then has nothing to strip.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
