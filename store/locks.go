package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
)

// LockSync takes the lock that lets one process at a time sync an integration: a server's
// job, another server's rescued copy of it and `overshare sync` all take it first, so a second
// sync of the integration is refused instead of running beside the first (and marking the
// first's run as failed when it starts). ok is false when another holder has it. The lock dies
// with its holder's process, so a killed sync never leaves the integration locked.
//
// On PostgreSQL it is a session advisory lock held on its own connection; on SQLite, where
// several processes may open one file, an exclusive flock on a file in the data directory.
func (s *Store) LockSync(ctx context.Context, integrationID string) (unlock func(), ok bool, err error) {
	return s.lock(ctx, "sync", integrationID)
}

// LockWatch is LockSync's twin for the upkeep of an integration's change-notification
// subscriptions: two upkeeps at once would both subscribe a new drive.
func (s *Store) LockWatch(ctx context.Context, integrationID string) (unlock func(), ok bool, err error) {
	return s.lock(ctx, "watch", integrationID)
}

func (s *Store) lock(ctx context.Context, kind, integrationID string) (unlock func(), ok bool, err error) {
	if s.dialect == Postgres {
		return s.lockPostgres(ctx, lockKey(kind, integrationID), integrationID)
	}
	if err := os.MkdirAll(s.lockDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("lock integration %s: %w", integrationID, err)
	}
	// A hash, not the id, names the file: ids come from callers.
	sum := sha256.Sum256([]byte(integrationID))
	path := filepath.Join(s.lockDir, kind+"-"+hex.EncodeToString(sum[:12])+".lock")
	unlock, ok, err = lockFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("lock integration %s: %w", integrationID, err)
	}
	return unlock, ok, nil
}

func (s *Store) lockPostgres(ctx context.Context, key int64, integrationID string) (unlock func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock integration %s: %w", integrationID, err)
	}
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
		ctx := context.WithoutCancel(ctx)
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			conn.Conn().Close(ctx)
		}
		conn.Release()
	}, true, nil
}

// lockKey maps an integration id into the advisory lock space; the prefix
// keeps it apart from keys other code might hash from the same id.
func lockKey(kind, integrationID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("overshare-" + kind + ":" + integrationID))
	return int64(h.Sum64())
}
