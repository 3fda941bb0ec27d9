// Package cli is the command line of sct: it reads the settings and runs
// the server, the account commands or the load command, and turns their
// errors into exit codes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/server"
)

const usage = `Usage: sct [command] [flags]

Commands:
  serve      run the server (the default)
  user add   create a user account: --email E --role R [--site S]... [--password P]
  site add   create a site: --code C --name N
  demo       fill an empty store with a made-up evaluation to look around in,
             and print sign-ins for each role (see "sct demo -h")
  bench      measure submissions under load (see "sct bench -h")

The account commands work on the store the settings name (data directory or
MongoDB URI); run them while the server is stopped when the store is embedded.
Run "sct serve -h" for the settings.
`

// Run runs the command line and returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	sub := ""
	if (cmd == "user" || cmd == "site") && len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch cmd + " " + sub {
	case "serve ":
		err = serveCommand(ctx, args, getenv, stderr)
	case "user add":
		err = userAddCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "site add":
		err = siteAddCommand(ctx, args, getenv, stdout, stderr)
	case "demo ":
		err = demoCommand(ctx, args, getenv, stdout, stderr)
	case "bench ":
		err = benchCommand(ctx, args, getenv, stdout, stderr)
	case "help ":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sct: unknown command %q\n\n%s", strings.TrimSpace(cmd+" "+sub), usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "sct: %v\n", err)
		return 1
	}
}

func serveCommand(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	s, err := config.Load("sct serve", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	tuneGC(getenv)
	return server.Serve(ctx, s, newLogger(s, stderr), nil)
}

// tuneGC sets the garbage collector's target to config.GCPercent unless
// GOGC says otherwise.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(config.GCPercent)
	}
}

func newLogger(s config.Settings, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.Level()}
	if s.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
