package dashboard

import "ndikiosk/internal/pgtest"

// PG is the package's test PostgreSQL, for the browser tests (package
// dashboard_test).
func PG() *pgtest.Server { return server }
