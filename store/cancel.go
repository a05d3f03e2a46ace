package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// ctxErr makes a statement that failed because its context ended report the context's error.
// PostgreSQL's driver does that already; SQLite's answers in its own words ("interrupted (9)"),
// and callers decide on errors.Is(err, context.Canceled) whether a run failed or was cancelled.
// The driver's message stays in the chain for the logs.
func ctxErr(ctx context.Context, err error) error {
	if err == nil || ctx == nil || ctx.Err() == nil {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", ctx.Err(), err)
}

// translateCancellation registers a callback after every kind of gorm statement that applies
// ctxErr to its error, so that every query of the store reports a cancellation the same way on
// both databases.
func translateCancellation(db *gorm.DB) error {
	fix := func(g *gorm.DB) {
		if g.Error != nil && g.Statement != nil {
			g.Error = ctxErr(g.Statement.Context, g.Error)
		}
	}
	cb := db.Callback()
	// gorm's callback type is unexported; this is the one method used.
	type registrar interface {
		Register(name string, fn func(*gorm.DB)) error
	}
	for _, r := range []registrar{cb.Create().After("*"), cb.Query().After("*"), cb.Update().After("*"),
		cb.Delete().After("*"), cb.Row().After("*"), cb.Raw().After("*")} {
		if err := r.Register("overshare:cancellation", fix); err != nil {
			return fmt.Errorf("register gorm cancellation callback: %w", err)
		}
	}
	return nil
}
