package storage

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"ndikiosk/kiosk"
)

// TestCSVFollowsOWASP writes the review's examples as typed host and
// purpose and checks every field is quoted, a formula after leading
// whitespace is neutralised, and control and bidi characters are gone.
func TestCSVFollowsOWASP(t *testing.T) {
	cases := []struct{ typed, want string }{
		{"Reception;=1+1", "Reception;=1+1"}, // harmless once quoted: it starts with R
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+65 6123 4567", "'+65 6123 4567"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1+1", "'=1+1"},
		{"\r=1+1", "'=1+1"},
		{" =1+1", "' =1+1"},
		{"\n=1+1", "'=1+1"},
		{" \n =cmd|' /C calc'!A0", "'  =cmd|' /C calc'!A0"},
		{"\u00a0@x", "'\u00a0@x"},
		{"\u202Eexe.fdp", "exe.fdp"},
		{"Ms \u2066Lee\u2069 \u200e\u200f\u061c\u202a\u202b\u202c\u202d\u2067\u2068", "Ms Lee "},
		{"A\x00B\x1bC\x7fD\u0085E", "ABCDE"},
		{"=\u202E1+1", "'=1+1"},
		{"Mr \"Ong\", IT", "Mr \"Ong\", IT"},
		{"Ms Lee", "Ms Lee"},
	}
	d, _ := openTemp(t)
	ctx := context.Background()
	for i, c := range cases {
		v := visit(d, i, "ALICE", c.typed)
		v.Purpose = c.typed
		if _, err := d.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := d.Export(ctx, &buf, kiosk.VisitFilter{}, "csv"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(cases)+1 {
		t.Fatalf("%d lines for %d visits: a value broke a line\n%s", len(lines), len(cases), buf.String())
	}
	for _, line := range lines {
		rows, err := csv.NewReader(strings.NewReader(line)).ReadAll()
		if err != nil || len(rows) != 1 {
			t.Fatalf("line %q: %v", line, err)
		}
		// Every field quoted: rebuilding the line with every field quoted
		// gives the line back.
		var q []string
		for _, f := range rows[0] {
			q = append(q, `"`+strings.ReplaceAll(f, `"`, `""`)+`"`)
		}
		if strings.Join(q, ",") != line {
			t.Errorf("not every field is quoted: %q", line)
		}
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	hostCol := indexOf(rows[0], "host")
	purposeCol := indexOf(rows[0], "purpose")
	for i, c := range cases {
		if got := rows[i+1][hostCol]; got != c.want {
			t.Errorf("host typed %q: exported %q, want %q", c.typed, got, c.want)
		}
		if got := rows[i+1][purposeCol]; got != c.want {
			t.Errorf("purpose typed %q: exported %q, want %q", c.typed, got, c.want)
		}
	}
}

func indexOf(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	panic("no column " + name)
}

// TestSandboxVisitsAreMarked: a visit recorded in sandbox mode keeps its
// mark in the log and in both export formats.
func TestSandboxVisitsAreMarked(t *testing.T) {
	d, _ := openTemp(t)
	ctx := context.Background()
	real := visit(d, 1, "ALICE", "Ms Lee")
	test := visit(d, 2, "TAN AH KOW", "Ms Lee")
	test.Sandbox = true
	for _, v := range []kiosk.Visit{real, test} {
		if _, err := d.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.Visits(ctx, kiosk.VisitFilter{})
	if err != nil || len(got) != 2 || !got[0].Sandbox || got[1].Sandbox {
		t.Fatalf("read back: %+v %v", got, err)
	}
	var buf bytes.Buffer
	d.Export(ctx, &buf, kiosk.VisitFilter{}, "csv")
	rows, _ := csv.NewReader(&buf).ReadAll()
	col := indexOf(rows[0], "sandbox")
	if rows[1][col] != "false" || rows[2][col] != "true" {
		t.Fatalf("csv sandbox column: %q", rows)
	}
	buf.Reset()
	d.Export(ctx, &buf, kiosk.VisitFilter{}, "json")
	var js []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &js); err != nil || js[0]["sandbox"] != false || js[1]["sandbox"] != true {
		t.Fatalf("json sandbox: %s %v", buf.String(), err)
	}
}
