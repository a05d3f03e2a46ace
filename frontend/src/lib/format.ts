import type { SharingScope } from '../gql/graphql';

export function scopeLabel(s: SharingScope): string {
  switch (s) {
    case 'ANONYMOUS':
      return 'Anyone with the link';
    case 'ORGANIZATION':
      return 'People in the organisation';
    case 'USERS':
      return 'Specific people';
  }
}

export function scopeShort(s: SharingScope): string {
  switch (s) {
    case 'ANONYMOUS':
      return 'Anyone';
    case 'ORGANIZATION':
      return 'Organisation';
    case 'USERS':
      return 'Specific people';
  }
}

export function scopeColor(s: SharingScope | null | undefined): string {
  switch (s) {
    case 'ANONYMOUS':
      return 'red';
    case 'ORGANIZATION':
      return 'yellow';
    case 'USERS':
      return 'blue';
    default:
      return 'gray';
  }
}

// ETA in words: precise enough to decide whether to wait, no false precision.
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return 'estimating…';
  }
  if (seconds < 60) return 'less than a minute';
  const mins = Math.round(seconds / 60);
  if (mins < 60) return `about ${mins} min`;
  const h = Math.floor(mins / 60);
  const m = mins % 60;
  return m === 0 ? `about ${h} h` : `about ${h} h ${m} min`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export interface ProgressLike {
  phase: string;
  drivesDone: number;
  drivesTotal: number;
  done?: boolean | null;
  error?: string | null;
}

// Percentage for the progress bar. Drives are the unit of work the server can
// count up front; before the drive list is known the bar shows an indeterminate 0.
export function progressPercent(p: ProgressLike): number {
  if (p.done) return 100;
  if (p.drivesTotal <= 0) return 0;
  const pct = (p.drivesDone / p.drivesTotal) * 100;
  // Never show 100 % before the server says done: the last drive's permissions
  // and the summary still run after it.
  return Math.max(0, Math.min(99, Math.floor(pct)));
}

const PHASES: Record<string, string> = {
  queued: 'Waiting to start',
  starting: 'Starting',
  users: 'Reading users',
  drives: 'Listing drives',
  items: 'Reading files',
  permissions: 'Reading sharing',
  delta: 'Reading changes',
  summary: 'Summarising',
  finishing: 'Finishing',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function phaseLabel(phase: string): string {
  const key = phase.toLowerCase();
  if (PHASES[key]) return PHASES[key];
  if (!phase) return 'Working';
  return phase.charAt(0).toUpperCase() + phase.slice(1).replace(/[_-]/g, ' ');
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat('en-GB').format(n);
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleDateString('en-GB', { year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function fraction(used: number, total: number): number {
  if (!total || total <= 0) return 0;
  return Math.max(0, Math.min(1, used / total));
}

export const SCOPE_ORDER: readonly SharingScope[] = ['ANONYMOUS', 'ORGANIZATION', 'USERS'];

// isPast: whether an expiry has passed; false for none.
export function isPast(iso: string | null | undefined, now: Date = new Date()): boolean {
  return !!iso && Date.parse(iso) <= now.getTime();
}
