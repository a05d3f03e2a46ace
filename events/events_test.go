package events

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func recv(t *testing.T, ch <-chan Progress) Progress {
	t.Helper()
	select {
	case p, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no progress delivered")
	}
	return Progress{}
}

// A watcher that reads late sees the newest state, and the final Done event
// is never lost however many updates came before it.
func testBus(t *testing.T, b Bus) {
	ctx := context.Background()
	ch, stop := b.Subscribe("int-1")
	defer stop()
	other, stopOther := b.Subscribe("int-2")
	defer stopOther()

	if err := b.Publish(ctx, Progress{RunID: "r1", IntegrationID: "int-1", Phase: "users"}); err != nil {
		t.Fatal(err)
	}
	if p := recv(t, ch); p.Phase != "users" {
		t.Fatalf("phase = %q, want users", p.Phase)
	}
	for i := 1; i <= 500; i++ {
		if err := b.Publish(ctx, Progress{RunID: "r1", IntegrationID: "int-1", Phase: "items", ItemsSeen: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(ctx, Progress{RunID: "r1", IntegrationID: "int-1", Phase: "done", ItemsSeen: 500, Done: true}); err != nil {
		t.Fatal(err)
	}
	last := 0
	for {
		p := recv(t, ch)
		if p.ItemsSeen < last {
			t.Fatalf("progress went backwards: %d after %d", p.ItemsSeen, last)
		}
		last = p.ItemsSeen
		if p.Done {
			break
		}
	}
	if last != 500 {
		t.Fatalf("final items = %d, want 500", last)
	}
	select {
	case p := <-other:
		t.Fatalf("another integration's watcher got %+v", p)
	case <-time.After(200 * time.Millisecond):
	}
	stop()
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after stop")
	}
}

func TestLocal(t *testing.T) { testBus(t, NewLocal()); testSharing(t, NewLocal()) }

func TestPostgresAcrossBuses(t *testing.T) {
	dsn := os.Getenv("OVERSHARE_TEST_DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Two buses stand for two processes sharing the database.
	a, err := NewPostgres(ctx, pool, nil)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer a.Close()
	b, err := NewPostgres(ctx, pool, nil)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer b.Close()
	testBus(t, crossBus{pub: a, sub: b})
	testSharing(t, crossBus{pub: a, sub: b})
}

// A sharing change reaches the integration's watchers, not another's, and a burst of them
// ends with the last.
func testSharing(t *testing.T, b Bus) {
	ctx := context.Background()
	ch, stop := b.SubscribeSharing("int-1")
	defer stop()
	other, stopOther := b.SubscribeSharing("int-2")
	defer stopOther()
	progress, stopProgress := b.Subscribe("int-1")
	defer stopProgress()
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 100 {
		if err := b.PublishSharing(ctx, SharingChange{IntegrationID: "int-1", At: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(10 * time.Second)
	for last := false; !last; {
		select {
		case c := <-ch:
			last = c.At.Equal(t0.Add(99 * time.Second))
		case <-deadline:
			t.Fatal("the last sharing change was not delivered")
		}
	}
	select {
	case c := <-other:
		t.Fatalf("another integration's watcher got %+v", c)
	case p := <-progress:
		t.Fatalf("a progress watcher got a sharing change as %+v", p)
	case <-time.After(200 * time.Millisecond):
	}
}

// crossBus publishes on one bus and watches on another.
type crossBus struct{ pub, sub Bus }

func (c crossBus) Publish(ctx context.Context, p Progress) error { return c.pub.Publish(ctx, p) }
func (c crossBus) Subscribe(id string) (<-chan Progress, func()) { return c.sub.Subscribe(id) }
func (c crossBus) PublishSharing(ctx context.Context, s SharingChange) error {
	return c.pub.PublishSharing(ctx, s)
}
func (c crossBus) SubscribeSharing(id string) (<-chan SharingChange, func()) {
	return c.sub.SubscribeSharing(id)
}
