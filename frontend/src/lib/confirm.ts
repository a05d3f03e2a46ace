import type { SharingScope } from '../gql/graphql';
import { formatCount, scopeLabel } from './format';

// Confirmation texts name what will stop working, in the words a person uses:
// who loses access to which file, not permission IDs.

interface Ident {
  displayName?: string | null;
  email?: string | null;
  external?: boolean | null;
  kind?: string | null;
}

// The few permission fields the texts need, so the full fragment and the
// smaller bulk-preview shape both fit.
interface Perm {
  roles: readonly string[];
  inherited: boolean;
  // False for what SharePoint lists but is not sharing (the owner, limited access,
  // existingAccess links); absent in shapes that only carry sharing.
  sharing?: boolean;
  application?: { displayName: string } | null;
  link?: { type: string; scope?: SharingScope | null } | null;
  grantedTo?: Ident | null;
  grantedToIdentities: readonly Ident[];
  inheritedFrom?: { name: string; path: string } | null;
}

function access(roles: readonly string[], linkType?: string | null): string {
  const r = new Set(roles.map((x) => x.toLowerCase()));
  if (r.has('owner')) return 'owner';
  if (linkType === 'edit' || r.has('write')) return 'edit';
  return 'view';
}

function who(p: Perm): string {
  const people = [p.grantedTo, ...p.grantedToIdentities]
    .filter((x): x is NonNullable<typeof x> => !!x)
    .map((x) => {
      const name = x.email || x.displayName || 'someone';
      return x.external ? `${name} (external)` : name;
    });
  return [...new Set(people)].join(', ');
}

export function describePermission(p: Perm): string {
  if (p.link) {
    const level = access(p.roles, p.link.type);
    const scope = p.link.scope ? scopeLabel(p.link.scope).toLowerCase() : 'people';
    const extra = who(p);
    const base =
      p.link.scope === 'ANONYMOUS'
        ? `the anonymous ${level} link (anyone who has it)`
        : p.link.scope === 'ORGANIZATION'
          ? `the organisation ${level} link (${scope})`
          : `the specific-people ${level} link`;
    return extra ? `${base} used by ${extra}` : base;
  }
  if (p.application) return `${access(p.roles)} access granted to the application ${p.application.displayName}`;
  if (p.grantedTo?.kind === 'organization') {
    return `${access(p.roles)} access granted to everyone in the organisation (${p.grantedTo.displayName ?? 'Everyone except external users'})`;
  }
  if (p.roles.some((r) => r.toLowerCase() === 'sp.limited access')) {
    return `limited access for ${who(p) || 'someone'}: a way through to something shared below, not access to this item`;
  }
  return `${access(p.roles)} access granted directly to ${who(p) || 'someone'}`;
}

export function stopSharingLines(itemName: string, perms: readonly Perm[]): string[] {
  return perms.map((p) => {
    if (p.link?.scope === 'ANONYMOUS') {
      return `Anyone holding the ${access(p.roles, p.link.type)} link to “${itemName}” will no longer be able to open it.`;
    }
    if (p.link?.scope === 'ORGANIZATION') {
      return `The organisation-wide ${access(p.roles, p.link.type)} link to “${itemName}” will stop working for everyone in the tenant.`;
    }
    if (p.application) return `The application ${p.application.displayName} will lose ${access(p.roles)} access to “${itemName}”.`;
    if (p.grantedTo?.kind === 'organization') {
      return `Everyone in the organisation will lose the ${access(p.roles)} access granted to “${itemName}”.`;
    }
    const w = who(p);
    if (p.link) {
      return `${w || 'The people it was sent to'} will lose ${access(p.roles, p.link.type)} access to “${itemName}” through the specific-people link.`;
    }
    return `${w || 'The person it was granted to'} will lose ${access(p.roles)} access to “${itemName}”.`;
  });
}

export function stopSharingTitle(itemName: string, count: number): string {
  return count === 1 ? `Stop this sharing of “${itemName}”?` : `Stop all ${count} shares of “${itemName}”?`;
}

// The stopSharing input: "all sharing of the item" omits permissionIds (the API refuses an
// empty list rather than read it as all), anything else names exactly the chosen permissions.
export function stopSharingInput(
  itemId: string,
  perms: readonly { id: string }[],
  all: boolean,
): { itemId: string; permissionIds?: string[] } {
  return all ? { itemId } : { itemId, permissionIds: perms.map((p) => p.id) };
}

// Inherited permissions cannot be removed on the item: the API refuses them and
// names the folder. The dialog says so before the person clicks.
export function splitRemovable<T extends Perm>(perms: readonly T[]): { removable: T[]; inherited: T[] } {
  return {
    removable: perms.filter((p) => !p.inherited && p.sharing !== false),
    inherited: perms.filter((p) => p.inherited),
  };
}

export function folderName(f: { name: string; path: string } | null | undefined): string {
  if (!f) return 'a parent folder';
  if (f.path === '/' || f.path === '') return 'the top folder of the drive';
  return f.path || f.name;
}

export function inheritedNote(perms: readonly Perm[]): string | null {
  const folders = [...new Set(perms.filter((p) => p.inherited).map((p) => folderName(p.inheritedFrom)))];
  if (!folders.length) return null;
  return `Sharing inherited from ${folders.join(', ')} stays: change it on that folder instead.`;
}

export interface IntegrationForDelete {
  name: string;
  tenantId: string;
  // Null while the counts are still being read (they take a while on a large tenant).
  counts: { users: number; drives: number; items: number; permissions: number } | null;
}

export function deleteIntegrationText(i: IntegrationForDelete): string {
  const what = i.counts
    ? `${formatCount(i.counts.users)} users, ${formatCount(i.counts.drives)} drives, ` +
      `${formatCount(i.counts.items)} items and ${formatCount(i.counts.permissions)} permissions`
    : 'its users, drives, items and permissions';
  return (
    `Deletes the integration “${i.name}” (tenant ${i.tenantId}) and everything synced for it from Overshare: ` +
    `${what}, plus its sync history. ` +
    `Nothing changes in Microsoft 365, and the audit log is kept.`
  );
}

export function bulkSummary(items: number, permissions: number, dryRun: boolean): string {
  const what = `${formatCount(permissions)} ${permissions === 1 ? 'permission' : 'permissions'} on ${formatCount(items)} ${items === 1 ? 'item' : 'items'}`;
  return dryRun
    ? `Stopping sharing for this filter would remove ${what}. Nothing has changed yet.`
    : `Removed sharing: ${what}.`;
}
