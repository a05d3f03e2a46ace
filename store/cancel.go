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
	for name, err := range map[string]error{
		"create": cb.Create().After("*").Register("overshare:cancellation", fix),
		"query":  cb.Query().After("*").Register("overshare:cancellation", fix),
		"update": cb.Update().After("*").Register("overshare:cancellation", fix),
		"delete": cb.Delete().After("*").Register("overshare:cancellation", fix),
		"row":    cb.Row().After("*").Register("overshare:cancellation", fix),
		"raw":    cb.Raw().After("*").Register("overshare:cancellation", fix),
	} {
		if err != nil {
			return fmt.Errorf("register gorm %s callback: %w", name, err)
		}
	}
	return nil
}
