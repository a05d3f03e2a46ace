import { describe, expect, it } from 'vitest';
import { validateConnect } from './validate';

const ok = {
  name: 'Contoso',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '11111111-2222-3333-4444-555555555555',
  clientSecret: 'abc~DEF.ghi_123',
};

describe('validateConnect', () => {
  it('accepts a complete form, also with a tenant domain', () => {
    expect(validateConnect(ok)).toEqual({});
    expect(validateConnect({ ...ok, tenantId: 'contoso.onmicrosoft.com' })).toEqual({});
  });
  it('explains each missing or malformed field', () => {
    const e = validateConnect({ name: ' ', tenantId: 'not a tenant', clientId: '123', clientSecret: '' });
    expect(Object.keys(e).sort()).toEqual(['clientId', 'clientSecret', 'name', 'tenantId']);
  });
  it('catches the Secret ID pasted instead of the Value', () => {
    expect(validateConnect({ ...ok, clientSecret: '9a8b7c6d-1111-2222-3333-444455556666' }).clientSecret).toMatch(/Secret ID/);
  });
});
