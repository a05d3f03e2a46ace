package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// channel is the PostgreSQL NOTIFY channel progress travels on.
const channel = "overshare_progress"

// Postgres is a Bus shared by every process connected to one database: Publish
// sends a NOTIFY, and one LISTEN connection per process feeds its local watchers.
type Postgres struct {
	pool   *pgxpool.Pool
	local  *Local
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// NewPostgres starts listening and returns the bus. Close stops it.
func NewPostgres(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*Postgres, error) {
	if log == nil {
		log = slog.Default()
	}
	lctx, cancel := context.WithCancel(context.Background())
	b := &Postgres{pool: pool, local: NewLocal(), log: log, cancel: cancel, done: make(chan struct{})}
	ready := make(chan error, 1)
	go b.listen(lctx, ready)
	select {
	case err := <-ready:
		if err != nil {
			cancel()
			<-b.done
			return nil, err
		}
	case <-ctx.Done():
		cancel()
		<-b.done
		return nil, ctx.Err()
	}
	return b, nil
}

// Publish implements Bus. The payload stays far below NOTIFY's 8000-byte limit.
func (b *Postgres) Publish(ctx context.Context, p Progress) error {
	payload, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode progress: %w", err)
	}
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, string(payload)); err != nil {
		return fmt.Errorf("notify progress: %w", err)
	}
	return nil
}

// Subscribe implements Bus.
func (b *Postgres) Subscribe(integrationID string) (<-chan Progress, func()) {
	return b.local.Subscribe(integrationID)
}

// Close stops listening.
func (b *Postgres) Close() {
	b.cancel()
	<-b.done
}

// listen keeps one LISTEN connection open, reconnecting after failures.
func (b *Postgres) listen(ctx context.Context, ready chan<- error) {
	defer close(b.done)
	first := true
	for ctx.Err() == nil {
		err := b.listenOnce(ctx, func() {
			if first {
				first = false
				ready <- nil
			}
		})
		if first {
			ready <- err
			return
		}
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("progress listener lost its connection; reconnecting", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (b *Postgres) listenOnce(ctx context.Context, onReady func()) error {
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire listener connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	onReady()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				// Leave the connection clean for the pool.
				_, _ = conn.Exec(context.Background(), "UNLISTEN "+channel)
			}
			return err
		}
		var p Progress
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
			b.log.Warn("ignoring malformed progress notification", "error", err)
			continue
		}
		b.local.deliver(p)
	}
}
