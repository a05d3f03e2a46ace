import { describe, expect, it } from 'vitest';
import {
  bulkSummary,
  deleteIntegrationText,
  describePermission,
  inheritedNote,
  splitRemovable,
  stopSharingInput,
  stopSharingLines,
  stopSharingTitle,
} from './confirm';

const link = (scope: 'ANONYMOUS' | 'ORGANIZATION' | 'USERS', type: string) => ({
  
  type,
  scope,
  webUrl: null,
  expiresAt: null,
  hasPassword: false,
  preventsDownload: false,
});

describe('confirmation texts', () => {
  it('names who loses what for each kind of permission', () => {
    const lines = stopSharingLines('Plan.docx', [
      { roles: ['write'], inherited: false, link: link('ANONYMOUS', 'edit'), grantedTo: null, grantedToIdentities: [] },
      { roles: ['read'], inherited: false, link: link('ORGANIZATION', 'view'), grantedTo: null, grantedToIdentities: [] },
      {
        roles: ['read'],
        inherited: false,
        link: link('USERS', 'view'),
        grantedTo: null,
        grantedToIdentities: [{ displayName: 'Bob', email: 'bob@fabrikam.com', external: true, kind: 'user' }],
      },
      {
        roles: ['write'],
        inherited: false,
        link: null,
        grantedTo: { displayName: 'Carol', email: 'carol@contoso.com', external: false, kind: 'user' },
        grantedToIdentities: [],
      },
    ]);
    expect(lines).toEqual([
      'Anyone holding the edit link to “Plan.docx” will no longer be able to open it.',
      'The organisation-wide view link to “Plan.docx” will stop working for everyone in the tenant.',
      'bob@fabrikam.com (external) will lose view access to “Plan.docx” through the specific-people link.',
      'carol@contoso.com will lose edit access to “Plan.docx”.',
    ]);
  });

  it('calls an owner grant owner access', () => {
    expect(
      stopSharingLines('a.txt', [
        { roles: ['owner'], inherited: false, link: null, grantedTo: { displayName: 'Lynne', email: 'lynne@contoso.com', external: false }, grantedToIdentities: [] },
      ]),
    ).toEqual(['lynne@contoso.com will lose owner access to “a.txt”.']);
  });

  it('names applications, the whole organisation and limited access in words', () => {
    const app = { roles: ['write'], inherited: false, sharing: true, link: null, application: { displayName: 'Contoso Records Sync' }, grantedTo: null, grantedToIdentities: [] };
    const everyone = { roles: ['read'], inherited: false, sharing: true, link: null, grantedTo: { displayName: 'Everyone except external users', kind: 'organization', external: false }, grantedToIdentities: [] };
    const limited = { roles: ['sp.limited access'], inherited: false, sharing: false, link: null, grantedTo: { displayName: 'Lynne', email: 'lynne@contoso.com', external: false }, grantedToIdentities: [] };
    expect(describePermission(app)).toBe('edit access granted to the application Contoso Records Sync');
    expect(describePermission(everyone)).toBe('view access granted to everyone in the organisation (Everyone except external users)');
    expect(describePermission(limited)).toMatch(/^limited access for lynne@contoso.com: .*not access to this item$/);
    expect(stopSharingLines('a.txt', [app, everyone])).toEqual([
      'The application Contoso Records Sync will lose edit access to “a.txt”.',
      'Everyone in the organisation will lose the view access granted to “a.txt”.',
    ]);
    // What is listed but is not sharing is not offered for removal.
    expect(splitRemovable([app, limited]).removable).toEqual([app]);
  });

  it('titles single and whole-item stops', () => {
    expect(stopSharingTitle('a.txt', 1)).toBe('Stop this sharing of “a.txt”?');
    expect(stopSharingTitle('a.txt', 3)).toBe('Stop all 3 shares of “a.txt”?');
  });

  it('keeps inherited permissions out and names their folder', () => {
    const perms = [
      { roles: ['read'], inherited: true, inheritedFrom: { name: 'Finance', path: '/Documents/Finance' }, link: null, grantedTo: null, grantedToIdentities: [] },
      { roles: ['read'], inherited: false, link: link('ANONYMOUS', 'view'), grantedTo: null, grantedToIdentities: [] },
    ];
    const { removable, inherited } = splitRemovable(perms);
    expect(removable).toHaveLength(1);
    expect(inherited).toHaveLength(1);
    expect(inheritedNote(perms)).toBe('Sharing inherited from /Documents/Finance stays: change it on that folder instead.');
    expect(inheritedNote(removable)).toBeNull();
  });

  it('says what deleting an integration removes and what it keeps', () => {
    const t = deleteIntegrationText({
      name: 'Contoso',
      tenantId: 't-1',
      counts: { users: 50, drives: 48, items: 10000, permissions: 1234 },
    });
    expect(t).toContain('50 users, 48 drives, 10,000 items and 1,234 permissions');
    expect(t).toContain('Nothing changes in Microsoft 365');
    expect(t).toContain('audit log is kept');
  });

  it('still says what deleting removes before the counts have arrived', () => {
    const t = deleteIntegrationText({ name: 'Contoso', tenantId: 't-1', counts: null });
    expect(t).toContain('everything synced for it from Overshare: its users, drives, items and permissions, plus its sync history');
    expect(t).not.toContain('undefined');
  });

  it('summarises a bulk dry run without claiming a change', () => {
    expect(bulkSummary(1, 1, true)).toBe('Stopping sharing for this filter would remove 1 permission on 1 item. Nothing has changed yet.');
    expect(bulkSummary(12, 30, false)).toBe('Removed sharing: 30 permissions on 12 items.');
  });
});

describe('stopSharingInput', () => {
  it('omits permissionIds for all sharing of the item, never sending an empty list', () => {
    const all = stopSharingInput('item-1', [], true);
    expect(all).toEqual({ itemId: 'item-1' });
    expect('permissionIds' in all).toBe(false);
    expect(stopSharingInput('item-1', [{ id: 'p1' }, { id: 'p2' }], true)).toEqual({ itemId: 'item-1' });
  });
  it('names exactly the chosen permissions, even when they are all there is', () => {
    expect(stopSharingInput('item-1', [{ id: 'p1' }], false)).toEqual({ itemId: 'item-1', permissionIds: ['p1'] });
  });
});
