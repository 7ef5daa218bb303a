// Package pgtest starts a throwaway PostgreSQL server for tests and
// benchmarks: Debian's postgresql binaries, a data folder of its own under
// the system's temporary folder, a free port on 127.0.0.1 and a Unix socket
// in that folder, stopped and deleted when the caller is done. Nothing is
// mocked: the hub's tests talk to a real server, as the hub does.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is a running PostgreSQL server.
type Server struct {
	Dir  string // the data folder's parent: data/, the socket, the server's log
	Port int
	bin  string
	as   []string // runuser prefix when started as root
	n    atomic.Int64
}

// ErrNoPostgres says that the server binaries are not installed.
var ErrNoPostgres = errors.New("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: run ./scripts/install-deps (Debian package postgresql)")

// binDir finds the newest installed server's binaries.
func binDir() (string, error) {
	if d := os.Getenv("NDIKIOSK_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var ok []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			ok = append(ok, d)
		}
	}
	if len(ok) == 0 {
		return "", ErrNoPostgres
	}
	sort.Slice(ok, func(i, j int) bool { return version(ok[i]) < version(ok[j]) })
	return ok[len(ok)-1], nil
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises and starts a server; Stop ends it. As root the server
// runs as the postgres user (PostgreSQL refuses to run as root).
func Start(ctx context.Context) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ndikiosk-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the postgres user (made by Debian's postgresql package): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	if err := s.run(ctx, "initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		s.remove()
		return nil, err
	}
	for try := 0; ; try++ {
		s.Port, err = freePort()
		if err == nil {
			err = s.run(ctx, "pg_ctl", "-D", s.data(), "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start",
				"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=on -c synchronous_commit=on -c max_connections=300", s.Port, dir))
		}
		if err == nil {
			return s, nil
		}
		if try == 2 { // a port taken between the probe and the start: try another
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			s.remove()
			return nil, fmt.Errorf("%w\n%s", err, log)
		}
	}
}

func (s *Server) data() string { return filepath.Join(s.Dir, "data") }

func (s *Server) run(ctx context.Context, prog string, args ...string) error {
	argv := append(append([]string{}, s.as...), append([]string{filepath.Join(s.bin, prog)}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", prog, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// URL is a connection URL for database db as the superuser.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// NewDatabase creates an empty database with a new name and returns its
// URL: one a test, so that tests share a server but not their tables.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	if err := s.run(ctx, "createdb", "-h", s.Dir, "-p", strconv.Itoa(s.Port), "-U", "postgres", name); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

// Bin is the path of one of the server's programs (pg_dump, psql…).
func (s *Server) Bin(prog string) string { return filepath.Join(s.bin, prog) }

// Stop stops the server at once and deletes its folder.
func (s *Server) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.run(ctx, "pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
	s.remove()
}

func (s *Server) remove() { os.RemoveAll(s.Dir) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Main runs a package's tests with one server for all of them, set in
// *server before the first test, and returns the exit code for os.Exit.
func Main(m interface{ Run() int }, server **Server) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "these tests need a PostgreSQL server:", err)
		return 1
	}
	*server = s
	defer s.Stop()
	return m.Run()
}

// Lazy is one server for a package whose tests need PostgreSQL only
// sometimes: the first test that asks starts it, later ones share it, and
// the package's TestMain calls Stop after the run.
type Lazy struct {
	once   sync.Once
	server *Server
	err    error
}

// Server is the shared server, started on first use; a failure to start
// fails the asking test.
func (l *Lazy) Server(t testing.TB) *Server {
	t.Helper()
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		l.server, l.err = Start(ctx)
	})
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.server
}

// Database is the URL of a new, empty database on the shared server.
func (l *Lazy) Database(t testing.TB) string {
	t.Helper()
	url, err := l.Server(t).NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// Stop stops the server if a test started it.
func (l *Lazy) Stop() {
	if l.server != nil {
		l.server.Stop()
	}
}
