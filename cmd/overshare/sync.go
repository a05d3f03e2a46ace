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
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/store"
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
		evenIfPaused  = fs.Bool("even-if-paused", false, "sync a paused integration (it stays paused)")
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
	if st.Dialect() == store.Postgres {
		// The dashboards of the servers on this database watch sharingChanged: tell them.
		pg, err := events.NewPostgres(ctx, st.PgxPool(), log)
		if err != nil {
			return err
		}
		defer pg.Close()
		// Set now; before the bus closes, wait for the notices of the last pages.
		defer publishSharingChanges(ctx, st, pg, log)()
	}
	updates, unsubscribe := bus.Subscribe(id)
	shown := make(chan struct{})
	go func() {
		defer close(shown)
		showProgress(stdout, updates, terminalColumns(stdout), *every)
	}()

	s := syncer.New(syncer.Config{Store: st, Bus: bus, Concurrency: *concurrency, Version: currentVersion(), Logger: log,
		GraphDefaults: graphEndpoints(env), RootRefreshInterval: env.RootRefreshInterval, SweepInterval: env.SweepInterval})
	runID, err := s.RunWith(ctx, id, syncer.Options{Full: *full, EvenIfPaused: *evenIfPaused})
	unsubscribe()
	<-shown
	if err != nil {
		switch {
		case errors.Is(err, syncer.ErrPaused):
			return errors.New("the integration is paused; resume it (overshare resume, or the dashboard) or pass --even-if-paused")
		case errors.Is(err, syncer.ErrBusy):
			return err
		case errors.Is(err, context.Canceled):
			if run, rerr := st.SyncRun(context.WithoutCancel(ctx), runID); rerr == nil && run.Error != "" {
				return errors.New(run.Error)
			}
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

// showProgress prints progress until the channel closes: on a terminal (columns is not nil) a
// line redrawn in place, shortened to the terminal's width so it never wraps; otherwise a
// plain line every `every`.
func showProgress(w io.Writer, updates <-chan events.Progress, columns func() int, every time.Duration) {
	var last events.Progress
	var printed time.Time
	for p := range updates {
		last = p
		if columns != nil {
			fmt.Fprintf(w, "\r\033[K%s", progressLine(p, columns()))
			continue
		}
		if time.Since(printed) >= every {
			printed = time.Now()
			fmt.Fprintln(w, progressLine(p, 0))
		}
	}
	if columns != nil && last.RunID != "" {
		fmt.Fprintln(w)
	}
}

// terminalColumns returns, when w is a terminal, a function measuring its width now (80
// when it cannot be measured); nil otherwise.
func terminalColumns(w io.Writer) func() int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func() int {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
		return 80
	}
}

// progressLine is one line of progress. With width 0 (not a terminal) it has every field and no
// bar. Otherwise it has a bar when everything fits, and is shortened to fewer than width
// columns, so the terminal never wraps it: the bar goes first, then the fields that matter
// least (requests, resource units, permission lists, throttled waits, shared items, items,
// ETA), then the line is cut.
func progressLine(p events.Progress, width int) string {
	type field struct {
		text string
		rank int // the lower, the longer it stays
	}
	fields := []field{{fmt.Sprintf("drives %d/%d", p.DrivesDone, p.DrivesTotal), 0},
		{fmt.Sprintf("items %d", p.ItemsSeen), 2}, {fmt.Sprintf("shared %d", p.SharedItems), 3},
		{fmt.Sprintf("permissions %d", p.PermissionsRead), 5}, {fmt.Sprintf("requests %d", p.Requests), 7},
		{fmt.Sprintf("RU %d", p.ResourceUnits), 6}}
	if p.ThrottledWaits > 0 {
		fields = append(fields, field{fmt.Sprintf("throttled %d", p.ThrottledWaits), 4})
	}
	if p.ETASeconds != nil {
		fields = append(fields, field{"ETA " + (time.Duration(*p.ETASeconds) * time.Second).String(), 1})
	}
	line := func(bar bool, maxRank int) string {
		var b strings.Builder
		if bar && p.DrivesTotal > 0 {
			const barWidth = 24
			n := p.DrivesDone * barWidth / p.DrivesTotal
			b.WriteString("[" + strings.Repeat("#", n) + strings.Repeat(".", barWidth-n) + "] ")
		}
		b.WriteString(string(p.Phase) + ":")
		sep := " "
		for _, f := range fields {
			if f.rank <= maxRank {
				b.WriteString(sep + f.text)
				sep = ", "
			}
		}
		return b.String()
	}
	const all = 7
	if width <= 0 {
		return line(false, all)
	}
	if l := line(true, all); utf8.RuneCountInString(l) < width {
		return l
	}
	for rank := all; rank >= 0; rank-- {
		if l := line(false, rank); utf8.RuneCountInString(l) < width {
			return l
		}
	}
	l := []rune(line(false, 0))
	if width < 2 {
		return ""
	}
	return string(l[:width-2]) + "…"
}
