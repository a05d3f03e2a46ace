import { describe, expect, it } from 'vitest';
import { DEFAULT_SCOPES, parseConfig } from './config';

describe('runtime config', () => {
  it('resolves relative URLs and turns the websocket URL into ws(s)', () => {
    const c = parseConfig(
      { oidcIssuer: 'http://127.0.0.1:8080/idp', oidcClientId: 'overshare-spa', graphqlUrl: '/graphql', graphqlWsUrl: '/graphql', version: 'v1' },
      'https://overshare.example.com/files',
    );
    expect(c.graphqlUrl).toBe('https://overshare.example.com/graphql');
    expect(c.graphqlWsUrl).toBe('wss://overshare.example.com/graphql');
    expect(c.version).toBe('v1');
  });
  it('defaults the websocket URL to the GraphQL URL', () => {
    const c = parseConfig({ oidcIssuer: 'i', oidcClientId: 'c', graphqlUrl: 'http://h:1/graphql' }, 'http://h:1/');
    expect(c.graphqlWsUrl).toBe('ws://h:1/graphql');
  });
  it('takes the scopes the server names, and the old ones when it names none', () => {
    const entra = 'openid profile offline_access api://8f0e5c1a-4b2d-4e6f-9a7b-0c1d2e3f4a5b/Overshare.Access';
    expect(parseConfig({ oidcIssuer: 'i', oidcClientId: 'c', graphqlUrl: '/g', oidcScopes: ` ${entra} ` }, 'http://h/').oidcScopes).toBe(entra);
    expect(parseConfig({ oidcIssuer: 'i', oidcClientId: 'c', graphqlUrl: '/g', oidcScopes: 'openid profile email' }, 'http://h/').oidcScopes).not.toContain('offline_access');
    expect(parseConfig({ oidcIssuer: 'i', oidcClientId: 'c', graphqlUrl: '/g' }, 'http://h/').oidcScopes).toBe(DEFAULT_SCOPES);
  });
  it('names the audience in the sign-in request only when the server says so', () => {
    expect(parseConfig({ oidcIssuer: 'i', oidcClientId: 'c', graphqlUrl: '/g', oidcAudience: 'overshare-api' }, 'http://h/').oidcAudience).toBe('overshare-api');
    expect(parseConfig({ oidcIssuer: 'i', oidcClientId: 'c', graphqlUrl: '/g' }, 'http://h/')).not.toHaveProperty('oidcAudience');
  });
  it('refuses a configuration without an issuer', () => {
    expect(() => parseConfig({ oidcClientId: 'c', graphqlUrl: '/g' }, 'http://h/')).toThrow(/oidcIssuer/);
  });
});
