//go:build !unix

package store

import (
	"errors"
	"os"
)

// lockFile on systems without flock: an exclusively created file. A process that dies leaves
// it behind, and the integration stays locked until the file is removed; Overshare's
// supported platforms are unix.
func lockFile(path string) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	f.Close()
	return func() { os.Remove(path) }, true, nil
}
