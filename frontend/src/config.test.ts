import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';

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
  it('refuses a configuration without an issuer', () => {
    expect(() => parseConfig({ oidcClientId: 'c', graphqlUrl: '/g' }, 'http://h/')).toThrow(/oidcIssuer/);
  });
});
