package main

import (
	"context"
	"errors"
	"io"
)

// runGraphsim is owned by the graphsim work (issue 2).
func runGraphsim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not built yet")
}
