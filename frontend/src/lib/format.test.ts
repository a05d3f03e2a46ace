import { describe, expect, it } from 'vitest';
import { formatBytes, formatEta, phaseLabel, progressPercent } from './format';

describe('progress and ETA', () => {
  it.each([
    [null, 'estimating…'],
    [undefined, 'estimating…'],
    [-1, 'estimating…'],
    [0, 'less than a minute'],
    [59, 'less than a minute'],
    [60, 'about 1 min'],
    [150, 'about 3 min'],
    [3599, 'about 1 h'],
    [3600, 'about 1 h'],
    [3900, 'about 1 h 5 min'],
    [Number.POSITIVE_INFINITY, 'estimating…'],
  ])('formats ETA %s as %s', (s, want) => {
    expect(formatEta(s)).toBe(want);
  });

  it.each([
    [{ phase: 'users', drivesDone: 0, drivesTotal: 0 }, 0],
    [{ phase: 'items', drivesDone: 1, drivesTotal: 3 }, 33],
    [{ phase: 'items', drivesDone: 3, drivesTotal: 3 }, 99],
    [{ phase: 'done', drivesDone: 3, drivesTotal: 3, done: true }, 100],
    [{ phase: 'failed', drivesDone: 1, drivesTotal: 4, done: true, error: 'boom' }, 100],
    [{ phase: 'items', drivesDone: 9, drivesTotal: 3 }, 99],
  ])('percent of %j is %d', (p, want) => {
    expect(progressPercent(p)).toBe(want);
  });

  it('names phases in words and falls back for new ones', () => {
    expect(phaseLabel('permissions')).toBe('Reading sharing');
    expect(phaseLabel('ITEMS')).toBe('Reading files');
    expect(phaseLabel('site_lists')).toBe('Site lists');
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KB'],
    [1024 ** 3 * 25, '25 GB'],
  ])('formats %d bytes as %s', (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });
});
