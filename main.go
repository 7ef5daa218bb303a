// Command ndikiosk is a self-service Singpass kiosk. See README.md. This
// package parses flags and prints; the work is done by config, app, doctor
// and storage.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"ndikiosk/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// usage is the help text, kept as text beside this file.
//
//go:embed usage.txt
var usage string

func main() { os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr)) }

// cli runs one command and returns the process exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	return cliWithInput(args, os.Stdin, stdout, stderr)
}

var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"run": runKiosk, "qr": runQR, "exchange": runExchange, "sandbox": runSandbox, "export": runExport,
	"doctor": runDoctor, "deny": runDenyList(true), "allow": runDenyList(false), "hub": runHub,
}

func cliWithInput(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch run, ok := commands[cmd]; {
	case ok:
		err = run(args, stdout, stderr)
	case cmd == "hash-pin":
		err = runHashPIN(args, stdin, stdout, stderr)
	case cmd == "version":
		fmt.Fprintln(stdout, "ndikiosk", version)
	case cmd == "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "ndikiosk: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == flag.ErrHelp:
		return 0
	case err == errUsage:
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "ndikiosk %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

var (
	errUsage    = errors.New("usage")
	errNoConfig = errors.New("--config FILE is required")
)

// newFlags makes a flag set that prints its errors to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ndikiosk "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return nil
}

// parseConfig parses args, then loads the config at *path, or the sandbox
// defaults when it is empty and sandboxIfEmpty.
func parseConfig(fs *flag.FlagSet, args []string, path *string, sandboxIfEmpty bool) (*config.Config, error) {
	switch err := parse(fs, args); {
	case err != nil:
		return nil, err
	case *path != "":
		return config.Load(*path)
	case !sandboxIfEmpty:
		return nil, errNoConfig
	}
	return config.SandboxDefaults(), nil
}

// stopContext ends on Ctrl-C or SIGTERM; tests replace it.
var stopContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}
