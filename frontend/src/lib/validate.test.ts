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
  it('asks for a PEM with the certificate and an unencrypted key when the certificate is chosen', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const key = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
    const withCert = (certificate: string) => validateConnect({ ...ok, clientSecret: '', credential: 'certificate', certificate });
    expect(withCert(cert + key)).toEqual({});
    expect(withCert('').certificate).toMatch(/PEM/);
    expect(withCert(key).certificate).toMatch(/BEGIN CERTIFICATE/);
    expect(withCert(cert).certificate).toMatch(/private key/);
    expect(withCert(cert + '-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n').certificate).toMatch(/encrypted/);
    expect(withCert(cert + key).clientSecret).toBeUndefined();
  });
});
