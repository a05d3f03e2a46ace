// Command overshare is the single Overshare binary. This file only dispatches
// subcommands; each subcommand lives in its own file and wires packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=..."; currentVersion
// falls back to the build information when it is not.
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (configured by OVERSHARE_* environment variables)", runServe},
		{"demo", "run everything in one process: database, simulated tenant, identity provider, server", runDemo},
		{"graphsim", "run the Microsoft Graph simulator with a synthetic tenant", runGraphsim},
		{"migrate", "create the database or bring its schema up to date, and exit", runMigrate},
		{"integrate", "connect a Microsoft 365 tenant (checks the credentials, prints the integration id)", runIntegrate},
		{"integrations", "list the connected tenants (integrations list [--json])", runIntegrations},
		{"pause", "pause an integration's scheduled syncs", runPause},
		{"resume", "resume an integration's scheduled syncs", runResume},
		{"sync", "run one sync of an integration in the foreground", runSync},
		{"export", "write an integration's shared items as CSV or JSON", runExport},
		{"healthcheck", "exit 0 when the server on this machine is ready (for container health checks)", runHealthcheck},
		{"version", "print the version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command line: help on stdout (exit 0; a bare `overshare` prints it too, but
// exits 2 because no command was given), errors on stderr (exit 1), a wrong command, flag or
// argument on stderr with exit 2.
func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		usage(stdout, cmds)
		return 2
	}
	switch args[0] {
	case "help":
		if len(args) > 1 && args[1] != "-h" && args[1] != "-help" && args[1] != "--help" {
			// `overshare help sync` is `overshare sync --help`.
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		fallthrough
	case "-h", "-help", "--help":
		usage(stdout, cmds)
		return 0
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := c.run(ctx, args[1:], stdout, stderr)
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "overshare %s: %v\nRun 'overshare help %s' for its flags.\n", c.name, err, c.name)
			return 2
		default:
			fmt.Fprintf(stderr, "overshare %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "overshare: unknown command %q\n\n", args[0])
	usage(stderr, cmds)
	return 2
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: overshare <command> [flags]\n\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n'overshare help <command>' (or 'overshare <command> --help') shows a command's flags and the environment it reads.")
}

// usageError is a mistake in the command line (an unknown flag, a missing or extra argument):
// said on stderr with a pointer to the command's help, exit status 2.
type usageError struct{ error }

func usageErrorf(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// flagSet is a command's flags and its help. `overshare <command> --help` and `overshare help
// <command>` print, on stdout, the usage line, what the command does, its flags and the
// environment variables it reads (from internal/config's table); a wrong flag is returned as
// a usageError and said by run on stderr.
type flagSet struct {
	*flag.FlagSet
	name     string
	synopsis string // after "overshare <name>": "--integration ID [flags]"
	about    string
	env      string // the internal/config command whose variables it reads; "" for none
	stdout   io.Writer
}

func newFlagSet(name, synopsis, about, env string, stdout io.Writer) *flagSet {
	fs := flag.NewFlagSet("overshare "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs, name: name, synopsis: synopsis, about: about, env: env, stdout: stdout}
}

// parse parses args; after it, the command's flags hold their values. --help prints the help
// and returns flag.ErrHelp (run exits 0).
func (f *flagSet) parse(args []string) error {
	err := f.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		f.help()
		return err
	}
	return usageError{err}
}

// parseNoArgs is parse for a command that takes no arguments besides flags.
func (f *flagSet) parseNoArgs(args []string) error {
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usageErrorf("unexpected arguments: %q", f.Args())
	}
	return nil
}

func (f *flagSet) help() {
	w := f.stdout
	fmt.Fprintf(w, "usage: overshare %s %s\n\n%s\n", f.name, f.synopsis, f.about)
	hasFlags := false
	f.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, "\nflags:\n")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
	if f.env != "" {
		fmt.Fprint(w, "\nenvironment:\n")
		printEnvironment(w, f.env)
	}
}
