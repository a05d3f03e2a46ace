import type { Role } from '../gql/graphql';

export interface NavItem {
  path: string;
  label: string;
  // The role needed to see the screen at all. Everything that names a file, a
  // person or a link is ADMIN in the API, so the screens follow the API.
  role: Role;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { path: '/', label: 'Overview', role: 'VIEWER' },
  { path: '/files', label: 'Shared files', role: 'ADMIN' },
  { path: '/sync', label: 'Live sync', role: 'ADMIN' },
  { path: '/integrations', label: 'Integrations', role: 'ADMIN' },
  { path: '/users', label: 'Users', role: 'ADMIN' },
  { path: '/drives', label: 'Drives', role: 'ADMIN' },
  { path: '/audit', label: 'Audit log', role: 'ADMIN' },
];

export function hasRole(roles: readonly Role[] | null | undefined, needed: Role): boolean {
  if (!roles) return false;
  if (roles.includes('ADMIN')) return true;
  return needed === 'VIEWER' && roles.includes('VIEWER');
}

export function visibleNav(roles: readonly Role[] | null | undefined): NavItem[] {
  return NAV_ITEMS.filter((n) => hasRole(roles, n.role));
}

export function isAdmin(roles: readonly Role[] | null | undefined): boolean {
  return hasRole(roles, 'ADMIN');
}

// The route a person may open, or null when their role does not reach it.
export function canOpen(roles: readonly Role[] | null | undefined, pathname: string): boolean {
  const item = [...NAV_ITEMS]
    .sort((a, b) => b.path.length - a.path.length)
    .find((n) => (n.path === '/' ? pathname === '/' : pathname === n.path || pathname.startsWith(n.path + '/')));
  if (!item) return hasRole(roles, 'ADMIN');
  return hasRole(roles, item.role);
}
