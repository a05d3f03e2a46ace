import type { DriveItemRowFragment } from '../gql/graphql';
import { isPast, scopeLabel } from './format';

// Cells that start with these characters are evaluated as formulas by Excel and
// LibreOffice; a file name like "=HYPERLINK(...)" must stay text in an export.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : String(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  if (/[",\r\n]/.test(s) || s !== s.trim()) {
    return `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}

export function csvLine(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',');
}

export function toCsv(header: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const lines = [csvLine(header)];
  for (const r of rows) lines.push(csvLine(r));
  // CRLF per RFC 4180; spreadsheet programs expect it.
  return lines.join('\r\n') + '\r\n';
}

export const DRIVE_ITEM_CSV_HEADER = [
  'Name',
  'Path',
  'Owner',
  'Scope',
  'Link types',
  'Expires',
  'Password',
  'External recipients',
  'Modified',
  'Web URL',
] as const;

export function externalRecipients(item: DriveItemRowFragment): string[] {
  const out = new Set<string>();
  for (const p of item.permissions) {
    for (const id of [p.grantedTo, ...p.grantedToIdentities]) {
      if (id?.external) out.add(id.email || id.displayName || 'unknown');
    }
  }
  return [...out];
}

export function linkTypes(item: DriveItemRowFragment): string[] {
  const out = new Set<string>();
  for (const p of item.permissions) if (p.link?.type && !p.inherited) out.add(p.link.type);
  return [...out];
}

// The earliest expiry among the item's own links; null when any link never expires.
export function earliestExpiry(item: DriveItemRowFragment): string | null {
  let min: string | null = null;
  for (const p of item.permissions) {
    if (!p.link || p.inherited) continue;
    const e = p.link.expiresAt ?? p.expiresAt;
    if (!e) return null;
    if (min === null || e < min) min = e;
  }
  return min;
}

// When the item's own links stop working, as the Expires column shows it: "none" without links,
// "never" when a link never expires, "expired" when every link's expiry has passed (Microsoft 365
// keeps listing expired links, but they no longer open anything; date = the last to expire), else
// "until" the earliest expiry still ahead.
export type LinkExpiry = { kind: 'none' | 'never' } | { kind: 'expired' | 'until'; date: string };

export function linkExpiry(item: DriveItemRowFragment, now: Date = new Date()): LinkExpiry {
  let soonest: string | null = null;
  let latestPast: string | null = null;
  let links = false;
  for (const p of item.permissions) {
    if (!p.link || p.inherited) continue;
    links = true;
    const e = p.link.expiresAt ?? p.expiresAt;
    if (!e) return { kind: 'never' };
    if (isPast(e, now)) {
      if (latestPast === null || Date.parse(e) > Date.parse(latestPast)) latestPast = e;
    } else if (soonest === null || Date.parse(e) < Date.parse(soonest)) {
      soonest = e;
    }
  }
  if (!links) return { kind: 'none' };
  if (soonest !== null) return { kind: 'until', date: soonest };
  return { kind: 'expired', date: latestPast! };
}

// Whether the item's links have a password, as Microsoft 365 reports it: OneDrive for Business
// never reports one (hasPassword is null there), which is "not reported", not "no".
export type PasswordState = 'yes' | 'not reported' | 'no';

export function passwordState(item: DriveItemRowFragment): PasswordState {
  const links = item.permissions.filter((p) => p.link && !p.inherited);
  if (links.some((p) => p.link?.hasPassword === true)) return 'yes';
  if (links.some((p) => p.link?.hasPassword == null)) return 'not reported';
  return 'no';
}

export function driveItemCsvRow(item: DriveItemRowFragment): unknown[] {
  return [
    item.name,
    item.path,
    item.owner?.userPrincipalName ?? item.owner?.displayName ?? '',
    item.sharedScope ? scopeLabel(item.sharedScope) : '',
    linkTypes(item).join(' '),
    earliestExpiry(item) ?? '',
    passwordState(item),
    externalRecipients(item).join(' '),
    item.modifiedAt ?? '',
    item.webUrl ?? '',
  ];
}
