package store

import (
	"context"
	"fmt"
)

// JobCount is how many River jobs of one queue are in one state.
type JobCount struct {
	Queue, State string
	Count        int64
}

// JobCounts counts River's jobs by queue and state (for the operator's metrics: a queue that
// grows, jobs that wait for a retry or were discarded). River keeps its jobs in river_job on
// both databases.
func (s *Store) JobCounts(ctx context.Context) ([]JobCount, error) {
	var out []JobCount
	err := s.rdb.WithContext(ctx).Raw(`SELECT queue, state, count(*) AS count FROM river_job GROUP BY queue, state`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return out, nil
}
