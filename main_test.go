package main

import (
	"os"
	"testing"

	"ndikiosk/internal/pgtest"
)

// hubPG is the PostgreSQL the hub command tests share, started by the
// first of them.
var hubPG pgtest.Lazy

func TestMain(m *testing.M) {
	code := m.Run()
	hubPG.Stop()
	os.Exit(code)
}
