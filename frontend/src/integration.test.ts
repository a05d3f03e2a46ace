import { describe, expect, it } from 'vitest';
import { chooseIntegration } from './integration';

describe('which integration a screen is about', () => {
  it('is the one the address names, for an admin before the list arrives too', () => {
    expect(chooseIntegration(true, 'b', null, ['a', 'b'])).toBe('b');
    expect(chooseIntegration(true, 'b', [{ id: 'a' }, { id: 'b' }], ['a', 'b'])).toBe('b');
  });

  it('falls back to the first one when the named one does not exist', () => {
    expect(chooseIntegration(true, 'gone', null, ['a', 'b'])).toBe('a');
    expect(chooseIntegration(true, null, [], ['a'])).toBeNull();
  });

  it('trusts the loaded list over the ids read at sign-in', () => {
    expect(chooseIntegration(true, 'new', [{ id: 'a' }, { id: 'new' }], ['a'])).toBe('new');
  });

  it('lets a viewer keep the integration the address names', () => {
    expect(chooseIntegration(false, 'x', null, [])).toBe('x');
    expect(chooseIntegration(false, null, null, ['a'])).toBe('a');
  });
});
