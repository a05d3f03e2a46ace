import { describe, expect, it } from 'vitest';
import type { SharingEventFieldsFragment, SharingGrantFieldsFragment } from '../gql/graphql';
import { changeText, eventText, eventTone, exposureText, formatSpan, grantText } from './history';

const anyone: SharingGrantFieldsFragment = {
  graphId: 'p1', roles: ['read'], linkType: 'view', scope: 'ANONYMOUS', expiresAt: null,
  grantedTo: null, grantedToEmail: null, external: false, recipients: [],
};
const guest: SharingGrantFieldsFragment = {
  graphId: 'p2', roles: ['write'], linkType: null, scope: 'USERS', expiresAt: null,
  grantedTo: 'Guest', grantedToEmail: 'guest@fabrikam.com', external: true, recipients: [],
};

function event(over: Partial<SharingEventFieldsFragment>): SharingEventFieldsFragment {
  return {
    id: 'e', kind: 'ADDED', source: 'MICROSOFT_365', observedAt: '2031-05-06T07:00:00Z', itemGraphId: 'i',
    itemName: 'budget.xlsx', itemPath: '/budget.xlsx', item: { id: 'x' }, permissionGraphId: 'p1', actorName: null,
    itemModifiedAt: null, itemModifiedBy: null, before: [], after: [], exposureBefore: [], exposureAfter: [], ...over,
  };
}

describe('sharing history in words', () => {
  it('says who a permission reaches', () => {
    expect(grantText(anyone)).toBe('anyone with the link (can view)');
    expect(grantText(guest)).toBe('Guest (can edit, external)');
  });

  it('names what changed', () => {
    expect(changeText(anyone, { ...anyone, linkType: 'edit', roles: ['write'], expiresAt: '2031-06-01T00:00:00Z' })).toBe(
      'link view → edit; roles read → write; expiry none → 1 Jun 2031',
    );
    expect(changeText({ ...guest, recipients: ['a@x'] }, { ...guest, recipients: ['b@x'] })).toBe('added b@x; removed a@x');
  });

  it('tells each kind of event, with who removed', () => {
    expect(eventText(event({ kind: 'FIRST_SEEN', permissionGraphId: null, after: [anyone, guest] }))).toBe(
      'First seen shared with anyone with the link (can view); Guest (can edit, external)',
    );
    expect(eventText(event({ kind: 'ADDED', after: [anyone] }))).toBe('Shared with anyone with the link (can view)');
    expect(eventText(event({ kind: 'REMOVED', source: 'OVERSHARE', actorName: 'Adele', before: [anyone] }))).toBe(
      'Adele stopped sharing with anyone with the link (can view) through Overshare',
    );
    expect(eventText(event({ kind: 'REMOVED', source: 'ITEM_DELETED', before: [guest] }))).toBe(
      'Deleted, and with it the sharing with Guest (can edit, external)',
    );
    expect(eventText(event({ kind: 'LINK_EXPIRED', source: 'CLOCK', before: [anyone], after: [anyone] }))).toBe(
      'Link expired: anyone with the link (can view) no longer opens the item',
    );
  });

  it('marks what exposed the item and what fixed it', () => {
    expect(eventTone(event({ exposureAfter: ['ANONYMOUS', 'BEYOND_ORGANIZATION'] }))).toBe('exposing');
    expect(eventTone(event({ exposureBefore: ['EXTERNAL', 'BEYOND_ORGANIZATION'], exposureAfter: ['ORGANIZATION'] }))).toBe('fixing');
    expect(eventTone(event({ exposureBefore: ['ORGANIZATION'], exposureAfter: [] }))).toBe('neutral');
  });

  it.each([
    [null, '—'],
    [30, 'under a minute'],
    [600, '10 min'],
    [3600 * 5 + 60 * 7, '5 h 7 min'],
    [86400 * 3, '3 days'],
    [86400 * 3 + 3600 * 4, '3 days 4 h'],
  ])('formats %s seconds as %s', (s, want) => {
    expect(formatSpan(s)).toBe(want);
  });

  it('sums up exposure', () => {
    expect(exposureText({ exposedNow: false })).toBe('Never seen shared beyond the organisation.');
    expect(exposureText({ exposedNow: true, firstExposedAt: '2031-05-06T07:00:00Z' }, new Date('2031-05-09T07:00:00Z'))).toMatch(
      /^Shared beyond the organisation since .* \(3 days\)\.$/,
    );
    expect(exposureText({ exposedNow: false, firstExposedAt: '2031-05-06T07:00:00Z', fixedAt: '2031-05-07T09:00:00Z', timeToFixSeconds: 93600 })).toMatch(
      /^Fixed .*, 26 h after it was first seen shared beyond the organisation\.$/,
    );
  });
});
