import { describe, expect, it } from 'vitest';
import type { DriveItemRowFragment } from '../gql/graphql';
import { csvCell, driveItemCsvRow, earliestExpiry, externalRecipients, linkExpiry, passwordState, toCsv } from './csv';

describe('csv', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    [' padded', '" padded"'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-rf', "'-rf"],
    ['@SUM(A1)', "'@SUM(A1)"],
    [42, '42'],
    [-3, '-3'],
    [null, ''],
    [undefined, ''],
    [true, 'true'],
  ])('escapes %j as %s', (input, want) => {
    expect(csvCell(input)).toBe(want);
  });

  it('joins lines with CRLF and ends with one', () => {
    expect(toCsv(['a', 'b'], [[1, 'x,y'], ['', null]])).toBe('a,b\r\n1,"x,y"\r\n,\r\n');
  });

  const item: DriveItemRowFragment = {
    id: 'i1',
    name: 'Budget, final.xlsx',
    path: '/Documents/Finance',
    webUrl: 'https://contoso-my.sharepoint.com/x',
    folder: false,
    size: 10,
    modifiedAt: '2024-03-01T10:00:00Z',
    sharedScope: 'ANONYMOUS',
    owner: { id: 'u1', displayName: 'Alice', userPrincipalName: 'alice@contoso.com' },
    permissions: [
      {
        id: 'p1',
        graphId: 'g1',
        roles: ['write'],
        inherited: false,
        sharing: true,
        scope: null,
        application: null,
        inheritedFrom: null,
        expiresAt: null,
        link: { type: 'edit', scope: 'ANONYMOUS', webUrl: 'https://x/1', expiresAt: '2025-01-01T00:00:00Z', expired: true, hasPassword: null, preventsDownload: false },
        grantedTo: null,
        grantedToIdentities: [],
      },
      {
        id: 'p2',
        graphId: 'g2',
        roles: ['read'],
        inherited: false,
        sharing: true,
        scope: null,
        application: null,
        inheritedFrom: null,
        expiresAt: null,
        link: { type: 'view', scope: 'USERS', webUrl: 'https://x/2', expiresAt: '2024-12-01T00:00:00Z', expired: true, hasPassword: true, preventsDownload: false },
        grantedTo: null,
        grantedToIdentities: [
          { displayName: 'Bob', email: 'bob@fabrikam.com', external: true, kind: 'user' },
          { displayName: 'Carol', email: 'carol@contoso.com', external: false, kind: 'user' },
        ],
      },
    ],
  };

  it('builds a row from a drive item', () => {
    expect(driveItemCsvRow(item)).toEqual([
      'Budget, final.xlsx',
      '/Documents/Finance',
      'alice@contoso.com',
      'Anyone with the link',
      'edit view',
      '2024-12-01T00:00:00Z',
      'yes',
      'bob@fabrikam.com',
      '2024-03-01T10:00:00Z',
      'https://contoso-my.sharepoint.com/x',
    ]);
    expect(externalRecipients(item)).toEqual(['bob@fabrikam.com']);
  });

  it('reports a password as not reported when Microsoft 365 does not report it', () => {
    const p0 = item.permissions[0]!;
    expect(passwordState({ ...item, permissions: [p0] })).toBe('not reported');
    expect(passwordState(item)).toBe('yes');
    expect(passwordState({ ...item, permissions: [{ ...p0, link: { ...p0.link!, hasPassword: false } }] })).toBe('no');
  });

  it('reports no expiry when one link never expires', () => {
    const p0 = item.permissions[0]!;
    const open = { ...item, permissions: [{ ...p0, link: { ...p0.link!, expiresAt: null } }, item.permissions[1]!] };
    expect(earliestExpiry(open)).toBeNull();
  });
});

describe('linkExpiry', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  const link = (id: string, expiresAt: string | null, inherited = false) => ({
    id,
    graphId: id,
    roles: ['read'],
    inherited,
    sharing: !inherited,
    scope: null,
    application: null,
    inheritedFrom: null,
    expiresAt: null,
    link: { type: 'view', scope: 'ANONYMOUS' as const, webUrl: `https://x/${id}`, expiresAt, expired: false, hasPassword: null, preventsDownload: false },
    grantedTo: null,
    grantedToIdentities: [],
  });
  const grant = { ...link('g', null), link: null, grantedTo: { displayName: 'Bob', email: 'bob@contoso.com', external: false, kind: 'user' } };
  const item = (permissions: DriveItemRowFragment['permissions']): DriveItemRowFragment => ({
    id: 'i1',
    name: 'a.docx',
    path: '/',
    webUrl: null,
    folder: false,
    size: 1,
    modifiedAt: null,
    sharedScope: 'ANONYMOUS',
    owner: null,
    permissions,
  });

  it.each([
    ['no links of its own', [grant, link('i', null, true)], { kind: 'none' }],
    ['a link that never expires wins', [link('a', '2026-12-20T00:00:00Z'), link('b', null)], { kind: 'never' }],
    ['the soonest expiry still ahead', [link('a', '2027-02-01T00:00:00Z'), link('b', '2026-12-20T00:00:00Z'), link('c', '2026-01-05T00:00:00Z')], { kind: 'until', date: '2026-12-20T00:00:00Z' }],
    ['every link expired: the last to expire', [link('a', '2026-01-05T00:00:00Z'), link('b', '2026-03-01T00:00:00Z')], { kind: 'expired', date: '2026-03-01T00:00:00Z' }],
    ['an expiry at this instant has passed', [link('a', '2026-12-07T12:00:00Z')], { kind: 'expired', date: '2026-12-07T12:00:00Z' }],
  ])('%s', (_name, permissions, want) => {
    expect(linkExpiry(item(permissions as DriveItemRowFragment['permissions']), now)).toEqual(want);
  });
});
