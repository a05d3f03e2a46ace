package main

import (
	"context"
	"errors"
	"io"
)

// runMigrate is owned by the storage work (issue 3).
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not built yet")
}
