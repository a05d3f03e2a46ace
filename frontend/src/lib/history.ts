import type { SharingEventFieldsFragment, SharingGrantFieldsFragment } from '../gql/graphql';
import { formatDate, formatDateTime } from './format';

// The sharing history in words: what an admin reads in an item's timeline and the live feed.

type Grant = SharingGrantFieldsFragment;
type Event = SharingEventFieldsFragment;

// Who a permission reaches, and with which rights.
export function grantText(g: Grant): string {
  let who: string;
  switch (g.scope) {
    case 'ANONYMOUS':
      who = 'anyone with the link';
      break;
    case 'ORGANIZATION':
      who = 'everyone in the organisation';
      break;
    default:
      who = [g.grantedTo ?? g.grantedToEmail, ...g.recipients].filter(Boolean).join(', ') || 'specific people';
  }
  const rights = g.linkType ? (g.linkType === 'edit' ? 'can edit' : g.linkType === 'view' ? 'can view' : g.linkType) : rolesText(g.roles);
  return `${who} (${rights}${g.external ? ', external' : ''})`;
}

function rolesText(roles: string[]): string {
  if (roles.includes('write') || roles.includes('owner')) return 'can edit';
  return 'can view';
}

// What changed between two snapshots of one permission.
export function changeText(before: Grant, after: Grant): string {
  const parts: string[] = [];
  if (before.scope !== after.scope) parts.push(`scope ${before.scope.toLowerCase()} → ${after.scope.toLowerCase()}`);
  if ((before.linkType ?? '') !== (after.linkType ?? '')) parts.push(`link ${before.linkType ?? 'none'} → ${after.linkType ?? 'none'}`);
  if (before.roles.join(',') !== after.roles.join(',')) parts.push(`roles ${before.roles.join(', ')} → ${after.roles.join(', ')}`);
  if ((before.expiresAt ?? '') !== (after.expiresAt ?? '')) {
    parts.push(`expiry ${before.expiresAt ? formatDate(before.expiresAt) : 'none'} → ${after.expiresAt ? formatDate(after.expiresAt) : 'none'}`);
  }
  const added = after.recipients.filter((r) => !before.recipients.includes(r));
  const removed = before.recipients.filter((r) => !after.recipients.includes(r));
  if (added.length) parts.push(`added ${added.join(', ')}`);
  if (removed.length) parts.push(`removed ${removed.join(', ')}`);
  return parts.join('; ') || 'details changed';
}

// One line saying what happened.
export function eventText(e: Event): string {
  const before = e.before[0];
  const after = e.after[0];
  switch (e.kind) {
    case 'FIRST_SEEN':
      return `First seen shared with ${e.after.map(grantText).join('; ') || 'nobody'}`;
    case 'ADDED':
      return `Shared with ${after ? grantText(after) : 'someone'}`;
    case 'CHANGED':
      return before && after ? `Changed sharing with ${grantText(after)}: ${changeText(before, after)}` : 'Sharing changed';
    case 'LINK_EXPIRED':
      return `Link expired: ${after ? grantText(after) : 'a link'} no longer opens the item`;
    case 'REMOVED': {
      const what = before ? grantText(before) : 'a permission';
      if (e.source === 'ITEM_DELETED') return `Deleted, and with it the sharing with ${what}`;
      if (e.source === 'OVERSHARE') return `${e.actorName ?? 'An admin'} stopped sharing with ${what} through Overshare`;
      return `Stopped sharing with ${what} in Microsoft 365`;
    }
  }
  return e.kind;
}

// Who made the change and when Graph says the item changed.
export function eventByline(e: Event): string {
  const parts = [formatDateTime(e.observedAt)];
  switch (e.source) {
    case 'OVERSHARE':
      parts.push(`by ${e.actorName ?? 'an admin'} in Overshare`);
      break;
    case 'MICROSOFT_365':
      parts.push('found by a sync');
      break;
    case 'CLOCK':
      parts.push('the link reached its expiry');
      break;
  }
  if (e.itemModifiedBy && e.source === 'MICROSOFT_365') parts.push(`item last modified by ${e.itemModifiedBy}`);
  return parts.join(' · ');
}

// An event is exposing when it takes the item beyond the organisation, fixing when it ends that.
export function eventTone(e: Event): 'exposing' | 'fixing' | 'neutral' {
  const beyond = (l: readonly string[]) => l.includes('BEYOND_ORGANIZATION');
  if (!beyond(e.exposureBefore) && beyond(e.exposureAfter)) return 'exposing';
  if (beyond(e.exposureBefore) && !beyond(e.exposureAfter)) return 'fixing';
  return 'neutral';
}

// A length of time for people: the largest unit or two.
export function formatSpan(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || seconds < 0) return '—';
  if (seconds < 60) return 'under a minute';
  const min = Math.floor(seconds / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} days ${h % 24} h` : `${d} days`;
}

export interface ExposureSummary {
  exposedNow: boolean;
  firstExposedAt?: string | null;
  fixedAt?: string | null;
  timeToFixSeconds?: number | null;
}

// The item's exposure beyond the organisation in one sentence.
export function exposureText(x: ExposureSummary, now: Date = new Date()): string {
  if (!x.firstExposedAt) return 'Never seen shared beyond the organisation.';
  if (x.exposedNow) {
    const since = (now.getTime() - new Date(x.firstExposedAt).getTime()) / 1000;
    return `Shared beyond the organisation since ${formatDateTime(x.firstExposedAt)} (${formatSpan(since)}).`;
  }
  return `Fixed ${formatDateTime(x.fixedAt)}, ${formatSpan(x.timeToFixSeconds)} after it was first seen shared beyond the organisation.`;
}
