package store

import "context"

// UseGormBulk switches a Store's PostgreSQL bulk writes to gorm's batch
// upsert, so tests and benchmarks can compare it with the native path.
func UseGormBulk(s *Store, on bool) {
	if on {
		s.bulk = bulkGorm
	} else {
		s.bulk = bulkCopy
	}
}

// UseNativeBulk forces the native PostgreSQL path to "copy", "unnest" or
// "auto" (the default: unnest for small batches, COPY for large ones).
func UseNativeBulk(s *Store, method string) {
	s.bulk = bulkCopy
	switch method {
	case "copy":
		s.native = nativeCopy
	case "unnest":
		s.native = nativeUnnest
	default:
		s.native = nativeAuto
	}
}

// OpenAtVersion opens a Store with its schema brought only to version v, to
// test what a later migration does to the data of an earlier version.
var OpenAtVersion = open

// RecomputePaths runs the path and webUrl recompute of a drive's last sync page
// (SyncPage.RecomputePaths) on its own and returns how many rows it rewrote, so a test
// can check that it writes only the rows that change.
func RecomputePaths(ctx context.Context, s *Store, integrationID, driveID string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(t *tx) error {
		var err error
		n, err = recomputePathsTx(t, integrationID, driveID)
		return err
	})
	return n, err
}
