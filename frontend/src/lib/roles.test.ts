import { describe, expect, it } from 'vitest';
import { canOpen, visibleNav } from './roles';

describe('role gating', () => {
  it('shows a viewer the overview only', () => {
    expect(visibleNav(['VIEWER']).map((n) => n.label)).toEqual(['Overview']);
  });
  it('shows an admin every screen', () => {
    expect(visibleNav(['ADMIN']).map((n) => n.path)).toEqual([
      '/',
      '/files',
      '/sync',
      '/integrations',
      '/users',
      '/drives',
      '/audit',
    ]);
  });
  it('shows nothing without a role', () => {
    expect(visibleNav([])).toEqual([]);
    expect(visibleNav(undefined)).toEqual([]);
  });
  it.each([
    [['VIEWER'], '/', true],
    [['VIEWER'], '/files', false],
    [['VIEWER'], '/files/abc', false],
    [['VIEWER'], '/audit', false],
    [['VIEWER'], '/somewhere-new', false],
    [['ADMIN'], '/files', true],
    [['ADMIN', 'VIEWER'], '/integrations', true],
    [[], '/', false],
  ] as const)('roles %j opening %s → %s', (roles, path, want) => {
    expect(canOpen([...roles], path)).toBe(want);
  });
});
