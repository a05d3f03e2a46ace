import type {
  DriveItemFilter,
  DriveItemOrder,
  DriveItemOrderField,
  OrderDirection,
  SharingScope,
} from '../gql/graphql';

// The Shared files view keeps its whole state in the URL so a view can be shared
// by copying the address. These functions are the only place that knows the
// parameter names.

export const SCOPES: readonly SharingScope[] = ['ANONYMOUS', 'ORGANIZATION', 'USERS'];
export const LINK_TYPES = ['view', 'edit', 'embed', 'blocksDownload', 'createOnly', 'review'] as const;
const ORDER_FIELDS: readonly DriveItemOrderField[] = ['MODIFIED_AT', 'NAME', 'SIZE'];
const DIRECTIONS: readonly OrderDirection[] = ['ASC', 'DESC'];

export interface FileView {
  filter: DriveItemFilter;
  order: DriveItemOrder | null;
}

export const DEFAULT_ORDER: DriveItemOrder = { field: 'MODIFIED_AT', direction: 'DESC' };

function parseBool(v: string | null): boolean | undefined {
  if (v === 'yes' || v === 'true' || v === '1') return true;
  if (v === 'no' || v === 'false' || v === '0') return false;
  return undefined;
}

function list(v: string | null): string[] {
  if (!v) return [];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

// Dates travel as YYYY-MM-DD in the URL (readable) and as RFC 3339 in the API.
// modifiedBefore is inclusive of the whole day a person picked.
export function dayStartISO(day: string): string {
  return `${day}T00:00:00.000Z`;
}
export function dayEndISO(day: string): string {
  const d = new Date(`${day}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}
function isoToDay(iso: string, end: boolean): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  if (end) d.setUTCMilliseconds(d.getUTCMilliseconds() - 1);
  return d.toISOString().slice(0, 10);
}

export function fileViewFromSearch(params: URLSearchParams): FileView {
  const filter: DriveItemFilter = {};
  const scopes = list(params.get('scope')).filter((s): s is SharingScope =>
    (SCOPES as readonly string[]).includes(s),
  );
  if (scopes.length) filter.sharedScope = scopes;
  const links = list(params.get('link')).filter((s) => (LINK_TYPES as readonly string[]).includes(s));
  if (links.length) filter.linkType = links;
  const external = parseBool(params.get('external'));
  if (external !== undefined) filter.external = external;
  const expiry = parseBool(params.get('expiry'));
  if (expiry !== undefined) filter.hasExpiry = expiry;
  const password = parseBool(params.get('password'));
  if (password !== undefined) filter.hasPassword = password;
  if (parseBool(params.get('expired')) === true) filter.expired = true;
  const owner = params.get('owner');
  if (owner) filter.ownerId = owner;
  const drive = params.get('drive');
  if (drive) filter.driveId = drive;
  const q = params.get('q')?.trim();
  if (q) filter.search = q;
  const after = params.get('modifiedAfter');
  if (after && DATE_RE.test(after)) filter.modifiedAfter = dayStartISO(after);
  const before = params.get('modifiedBefore');
  if (before && DATE_RE.test(before)) filter.modifiedBefore = dayEndISO(before);
  const all = parseBool(params.get('all'));
  if (all === true) filter.sharedOnly = false;

  let order: DriveItemOrder | null = null;
  const sort = params.get('sort');
  if (sort) {
    const [field, direction] = sort.split(':');
    if (
      field &&
      direction &&
      (ORDER_FIELDS as readonly string[]).includes(field) &&
      (DIRECTIONS as readonly string[]).includes(direction)
    ) {
      order = { field: field as DriveItemOrderField, direction: direction as OrderDirection };
    }
  }
  return { filter, order };
}

// What the Shared files screen asks the API for: shared items unless the
// address asks for every item, newest first unless it names an order.
export function sharedFilesQuery(view: FileView): { filter: DriveItemFilter; order: DriveItemOrder } {
  return { filter: cleanFilter({ sharedOnly: true, ...view.filter }), order: view.order ?? DEFAULT_ORDER };
}

export function searchFromFileView(view: FileView): URLSearchParams {
  const p = new URLSearchParams();
  const f = view.filter;
  if (f.sharedScope?.length) p.set('scope', [...f.sharedScope].join(','));
  if (f.linkType?.length) p.set('link', [...f.linkType].join(','));
  if (f.external != null) p.set('external', f.external ? 'yes' : 'no');
  if (f.hasExpiry != null) p.set('expiry', f.hasExpiry ? 'yes' : 'no');
  if (f.hasPassword != null) p.set('password', f.hasPassword ? 'yes' : 'no');
  if (f.expired) p.set('expired', 'yes');
  if (f.ownerId) p.set('owner', f.ownerId);
  if (f.driveId) p.set('drive', f.driveId);
  if (f.search?.trim()) p.set('q', f.search.trim());
  if (f.modifiedAfter) {
    const d = isoToDay(f.modifiedAfter, false);
    if (d) p.set('modifiedAfter', d);
  }
  if (f.modifiedBefore) {
    const d = isoToDay(f.modifiedBefore, true);
    if (d) p.set('modifiedBefore', d);
  }
  if (f.sharedOnly === false) p.set('all', 'yes');
  if (view.order) p.set('sort', `${view.order.field}:${view.order.direction}`);
  return p;
}

// The API filter never carries empty lists or blank search: they would mean
// "match nothing" to some servers and "no filter" to others.
export function cleanFilter(f: DriveItemFilter): DriveItemFilter {
  const out: DriveItemFilter = {};
  for (const [k, v] of Object.entries(f) as [keyof DriveItemFilter, unknown][]) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

export function activeFilterCount(f: DriveItemFilter): number {
  const c = cleanFilter(f);
  return Object.keys(c).filter((k) => k !== 'sharedOnly').length;
}

// The filter in words, for the bulk dialog and the export notice.
export function describeFilter(f: DriveItemFilter): string {
  const parts: string[] = [];
  if (f.sharedScope?.length) {
    const names: Record<SharingScope, string> = { ANONYMOUS: 'anyone links', ORGANIZATION: 'organisation links', USERS: 'specific people' };
    parts.push(`shared with ${f.sharedScope.map((s) => names[s]).join(' or ')}`);
  }
  if (f.linkType?.length) parts.push(`${f.linkType.join(' or ')} links`);
  if (f.external === true) parts.push('shared externally');
  if (f.external === false) parts.push('not shared externally');
  if (f.hasExpiry === true) parts.push('with an expiry');
  if (f.hasExpiry === false) parts.push('without expiry');
  if (f.hasPassword === true) parts.push('password-protected');
  if (f.hasPassword === false) parts.push('without password');
  if (f.expired) parts.push('expired links still listed');
  if (f.ownerId) parts.push('of one owner');
  if (f.driveId) parts.push('in one drive');
  if (f.search) parts.push(`name contains “${f.search}”`);
  if (f.modifiedAfter) parts.push(`modified from ${f.modifiedAfter.slice(0, 10)}`);
  if (f.modifiedBefore) parts.push(`modified before ${f.modifiedBefore.slice(0, 10)}`);
  if (f.sharedOnly === false) return parts.length ? `every item ${parts.join(', ')}` : 'every item, shared or not';
  return parts.length ? parts.join(', ') : 'every shared item';
}
