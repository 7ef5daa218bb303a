package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"ndikiosk/app"
	"ndikiosk/dashboard"
)

// runHubOperator is `ndikiosk hub operator add|list|remove|passwd`: the
// accounts of the staff who use the hub's dashboard.
func runHubOperator(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "ndikiosk hub operator: add, list, remove or passwd")
		return errUsage
	}
	sub, args := args[0], args[1:]
	fs := newFlags("hub operator "+sub, stderr)
	open := hubLogFlags(fs)
	var name, role, passwordFile *string
	if sub != "list" {
		name = fs.String("name", "", "the operator's name (required)")
	}
	if sub == "add" {
		role = fs.String("role", "viewer", "viewer (sees) or admin (also edits the deny list, exports, registers and deletes)")
	}
	if sub == "add" || sub == "passwd" {
		passwordFile = fs.String("password-file", "", "read the password from this file's first line (default: standard input, asked twice on a terminal)")
	}
	switch sub {
	case "add", "list", "remove", "passwd":
	default:
		fmt.Fprintf(stderr, "ndikiosk hub operator: unknown command %q (add, list, remove or passwd)\n", sub)
		return errUsage
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if name != nil {
		if *name == "" {
			fmt.Fprintln(stderr, "--name NAME is required")
			return errUsage
		}
		if err := dashboard.CheckName(*name); err != nil {
			return err
		}
	}
	var r dashboard.Role
	if role != nil {
		var err error
		if r, err = dashboard.ParseRole(*role); err != nil {
			return err
		}
	}
	var password string
	if passwordFile != nil {
		var err error
		if password, err = readPassword(*passwordFile, stdin, stderr); err != nil {
			return err
		}
	}
	l, err := open()
	if err != nil {
		return err
	}
	defer l.Close()
	return operatorCommand(sub, l, *nameOr(name), r, password, stdout)
}

func nameOr(p *string) *string {
	if p == nil {
		return new(string)
	}
	return p
}

func operatorCommand(sub string, l *app.HubLog, name string, role dashboard.Role, password string, stdout io.Writer) error {
	ctx := context.Background()
	acc := dashboard.NewAccounts(l.Pool(), nil)
	switch sub {
	case "add":
		if err := acc.Add(ctx, name, role, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Operator %s added (%s). They sign in at the hub's /dashboard/.\n", name, role)
	case "remove":
		if err := acc.Remove(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Operator %s removed and signed out.\n", name)
	case "passwd":
		if err := acc.SetPassword(ctx, name, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Password of %s changed; their sessions have ended.\n", name)
	case "list":
		ops, err := acc.List(ctx)
		if err != nil {
			return err
		}
		if len(ops) == 0 {
			fmt.Fprintln(stdout, "No operators: add one with `ndikiosk hub operator add --name NAME --role admin`.")
		}
		for _, o := range ops {
			fmt.Fprintf(stdout, "%-20s %-7s added %s\n", o.Name, o.Role, o.CreatedAt.Format("2006-01-02"))
		}
	}
	return nil
}

// readPassword reads a password: the first line of file, or of stdin;
// on a terminal it is asked for twice, without echo.
func readPassword(file string, stdin io.Reader, stderr io.Writer) (string, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		return firstLine(f)
	}
	if f, ok := stdin.(*os.File); ok {
		if restore, ok := noEcho(f); ok {
			defer restore()
			in := bufio.NewReader(f)
			fmt.Fprint(stderr, "Password: ")
			p1, err := in.ReadString('\n')
			fmt.Fprint(stderr, "\nAgain: ")
			p2, err2 := in.ReadString('\n')
			fmt.Fprintln(stderr)
			if err != nil || err2 != nil {
				return "", errors.New("no password given")
			}
			if p1 != p2 {
				return "", errors.New("the two passwords differ")
			}
			return strings.TrimRight(p1, "\r\n"), dashboard.CheckPassword(strings.TrimRight(p1, "\r\n"))
		}
	}
	return firstLine(stdin)
}

func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	p := strings.TrimRight(line, "\r\n")
	if p == "" {
		return "", errors.New("no password given (standard input or --password-file)")
	}
	return p, dashboard.CheckPassword(p)
}
