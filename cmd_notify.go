package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"ndikiosk/kiosk"
	"ndikiosk/ndi"
	"ndikiosk/notify"
)

// runHubNotify is `ndikiosk hub notify dead|replay`: the host
// notifications that failed for good, and sending them again.
func runHubNotify(args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "dead":
		return runNotifyDead(args, stdout, stderr)
	case "replay":
		return runNotifyReplay(args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ndikiosk hub notify: unknown command %q (dead, or replay ID|--all)\n", sub)
	return errUsage
}

func runNotifyDead(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hub notify dead", stderr)
	open := hubLogFlags(fs)
	limit := fs.Int("limit", 100, "list at most this many, the most recent first (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		fmt.Fprintln(stderr, "--limit must be 0 or more")
		return errUsage
	}
	l, err := open()
	if err != nil {
		return err
	}
	defer l.Close()
	dead, err := notify.DeadLetters(context.Background(), l.DB, *limit)
	if err != nil {
		return err
	}
	if len(dead) == 0 {
		fmt.Fprintln(stdout, "No dead letters: every host notification was sent, skipped or is still being tried.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVISIT\tCHANNEL\tSITE\tHOST\tATTEMPTS\tGAVE UP (SGT)\tLAST ERROR")
	for _, d := range dead {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.VisitID, d.Channel, kiosk.CleanText(d.Site), kiosk.CleanText(d.Host),
			d.Attempts, d.DiedAt.In(ndi.SGT).Format("2006-01-02 15:04"), kiosk.CleanText(d.LastError))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d dead letter(s). Send one again: ndikiosk hub notify replay ID; all: ndikiosk hub notify replay --all\n", len(dead))
	return nil
}

func runNotifyReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hub notify replay", stderr)
	open := hubLogFlags(fs)
	all := fs.Bool("all", false, "replay every dead letter")
	// The id may come before or after the flags.
	var idArg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		idArg, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if rest := fs.Args(); len(rest) > 0 && idArg == "" {
		idArg, rest = rest[0], rest[1:]
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "one ID at a time (or --all); unexpected %q\n", rest[0])
			return errUsage
		}
	}
	if (idArg == "") == !*all {
		fmt.Fprintln(stderr, "give the dead letter's ID (from `ndikiosk hub notify dead`) or --all, not both")
		return errUsage
	}
	var id int64
	if idArg != "" {
		var err error
		if id, err = strconv.ParseInt(idArg, 10, 64); err != nil || id <= 0 {
			fmt.Fprintf(stderr, "%q is not a dead letter's ID (a whole number from `ndikiosk hub notify dead`)\n", idArg)
			return errUsage
		}
	}
	l, err := open()
	if err != nil {
		return err
	}
	defer l.Close()
	ctx := context.Background()
	if *all {
		n, err := notify.ReplayAll(ctx, l.DB)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d dead letter(s) queued again; a running hub sends them now.\n", n)
		return nil
	}
	if err := notify.Replay(ctx, l.DB, id); errors.Is(err, kiosk.ErrNotFound) {
		return fmt.Errorf("no dead letter %d (it may have been sent, replayed already or purged): see `ndikiosk hub notify dead`", id)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Dead letter %d queued again; a running hub sends it now.\n", id)
	return nil
}
