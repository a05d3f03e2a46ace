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

// The PostgreSQL NOTIFY channels progress and sharing changes travel on.
const (
	channel        = "overshare_progress"
	sharingChannel = "overshare_sharing"
)

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

// PublishSharing implements Bus.
func (b *Postgres) PublishSharing(ctx context.Context, c SharingChange) error {
	payload, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode sharing change: %w", err)
	}
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", sharingChannel, string(payload)); err != nil {
		return fmt.Errorf("notify sharing change: %w", err)
	}
	return nil
}

// SubscribeSharing implements Bus.
func (b *Postgres) SubscribeSharing(integrationID string) (<-chan SharingChange, func()) {
	return b.local.SubscribeSharing(integrationID)
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
	for _, ch := range []string{channel, sharingChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	onReady()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				// Leave the connection clean for the pool.
				_, _ = conn.Exec(context.Background(), "UNLISTEN *")
			}
			return err
		}
		b.deliver(n.Channel, n.Payload)
	}
}

// deliver hands one notification to this process's watchers.
func (b *Postgres) deliver(ch, payload string) {
	var err error
	switch ch {
	case sharingChannel:
		var c SharingChange
		if err = json.Unmarshal([]byte(payload), &c); err == nil {
			b.local.sharing.deliver(c.IntegrationID, c)
		}
	default:
		var p Progress
		if err = json.Unmarshal([]byte(payload), &p); err == nil {
			b.local.progress.deliver(p.IntegrationID, p)
		}
	}
	if err != nil {
		b.log.Warn("ignoring malformed notification", "channel", ch, "error", err)
	}
}
