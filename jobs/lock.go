package jobs

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/overshare/overshare/store"
)

// lockIntegration takes a PostgreSQL session advisory lock for the
// integration's sync, held on its own connection until unlock. River's unique
// jobs already allow one sync job per integration; the lock covers the one
// gap, a job that River rescued (it ran longer than RescueAfter) while its
// first process still works on it. A process that dies loses its connection
// and so its lock. On SQLite (one process) there is nothing to guard.
func (s *Service) lockIntegration(ctx context.Context, integrationID string) (unlock func(), ok bool, err error) {
	if s.st.Dialect() != store.Postgres {
		return func() {}, true, nil
	}
	conn, err := s.st.PgxPool().Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock integration %s: %w", integrationID, err)
	}
	key := lockKey(integrationID)
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lock integration %s: %w", integrationID, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		// The sync's context may be over; the unlock must still run, else
		// the lock lives as long as the pooled connection.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
		conn.Release()
	}, true, nil
}

// lockKey maps an integration id into the advisory lock space; the prefix
// keeps it apart from keys other code might hash from the same id.
func lockKey(integrationID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("overshare-sync:" + integrationID))
	return int64(h.Sum64())
}
