package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/syncer"
)

// runSync runs one sync of an integration in the foreground: a live
// progress line on a terminal, a progress line every few seconds otherwise.
func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sync", "--integration ID [flags]", "Runs one sync of an integration in the foreground, on the existing database: a live progress\n"+
		"line on a terminal, a progress line every --progress-every otherwise.", config.Sync, stdout)
	var (
		integrationID = fs.String("integration", "", "the integration to sync: its id (printed by overshare integrate) or its global ID (shown by the API and the dashboard)")
		full          = fs.Bool("full", false, "enumerate every drive again instead of reading changes")
		concurrency   = fs.Int("concurrency", syncer.DefaultConcurrency, "drives synced at the same time")
		every         = fs.Duration("progress-every", 5*time.Second, "interval of progress lines when not on a terminal")
		cpuProfile    = fs.String("cpuprofile", "", "write a CPU profile of the sync to this file (diagnostics)")
		verbose       = fs.Bool("v", false, "log the engine's progress and timings to stderr")
	)
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	if *integrationID == "" {
		return usageErrorf("missing --integration")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	env, err := config.Load(config.Sync, os.Getenv)
	if err != nil {
		return err
	}
	st, err := openExisting(ctx, env, log, stderr, "", false)
	if err != nil {
		return err
	}
	defer st.Close()
	integration, err := integrationByArg(ctx, st, *integrationID)
	if err != nil {
		return err
	}
	id := integration.ID

	bus := events.NewLocal()
	updates, unsubscribe := bus.Subscribe(id)
	tty := false
	if f, ok := stdout.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	shown := make(chan struct{})
	go func() {
		defer close(shown)
		showProgress(stdout, updates, tty, *every)
	}()

	s := syncer.New(syncer.Config{Store: st, Bus: bus, Concurrency: *concurrency, Version: currentVersion(), Logger: log,
		GraphDefaults: graphEndpoints(env), RootRefreshInterval: env.RootRefreshInterval, SweepInterval: env.SweepInterval})
	runID, err := s.Run(ctx, id, *full)
	unsubscribe()
	<-shown
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errors.New("cancelled; the next sync resumes where this one stopped")
		}
		return errors.New(syncer.Message(err))
	}
	run, rerr := st.SyncRun(context.WithoutCancel(ctx), runID)
	if rerr != nil {
		return rerr
	}
	took := time.Duration(0)
	if run.FinishedAt != nil {
		took = run.FinishedAt.Sub(run.StartedAt).Round(100 * time.Millisecond)
	}
	_, err = fmt.Fprintf(stdout, "sync %s done in %s: %d drives, %d items, %d shared, %d permission lists read, %d Graph requests, %d resource units, %d throttled\n",
		run.ID, took, run.DrivesDone, run.ItemsSeen, run.SharedItems, run.PermissionsRead, run.Requests, run.ResourceUnits, run.ThrottledWaits)
	return err
}

// showProgress prints progress until the channel closes: a redrawn line on
// a terminal, a plain line every `every` otherwise.
func showProgress(w io.Writer, updates <-chan events.Progress, tty bool, every time.Duration) {
	var last events.Progress
	var printed time.Time
	for p := range updates {
		last = p
		if tty {
			fmt.Fprintf(w, "\r\033[K%s", progressLine(p, true))
			continue
		}
		if time.Since(printed) >= every {
			printed = time.Now()
			fmt.Fprintln(w, progressLine(p, false))
		}
	}
	if tty && last.RunID != "" {
		fmt.Fprintln(w)
	}
}

func progressLine(p events.Progress, bar bool) string {
	var b strings.Builder
	if bar && p.DrivesTotal > 0 {
		const width = 24
		n := p.DrivesDone * width / p.DrivesTotal
		b.WriteString("[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "] ")
	}
	fmt.Fprintf(&b, "%s: drives %d/%d, items %d, shared %d, permissions %d, requests %d, RU %d",
		p.Phase, p.DrivesDone, p.DrivesTotal, p.ItemsSeen, p.SharedItems, p.PermissionsRead, p.Requests, p.ResourceUnits)
	if p.ThrottledWaits > 0 {
		fmt.Fprintf(&b, ", throttled %d", p.ThrottledWaits)
	}
	if p.ETASeconds != nil {
		fmt.Fprintf(&b, ", ETA %s", (time.Duration(*p.ETASeconds) * time.Second).String())
	}
	return b.String()
}
