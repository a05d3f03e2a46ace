import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from 'urql';
import { createClient as createWSClient } from 'graphql-ws';
import type { RuntimeConfig } from './config';

export function makeClient(
  config: RuntimeConfig,
  token: () => string | undefined,
  onUnauthenticated: () => void = () => {},
): Client {
  const ws = createWSClient({
    url: config.graphqlWsUrl,
    lazy: true,
    // Read the token at every (re)connect so a renewed one is used.
    connectionParams: () => {
      const t = token();
      return t ? { Authorization: `Bearer ${t}` } : {};
    },
    retryAttempts: 8,
    shouldRetry: () => true,
  });
  return new Client({
    url: config.graphqlUrl,
    exchanges: [
      // An expired or revoked session: renew it (or send the person to sign in)
      // instead of leaving every screen with an error.
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) onUnauthenticated();
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetchOptions: () => {
      const t = token();
      const headers: Record<string, string> = {};
      if (t) headers.Authorization = `Bearer ${t}`;
      return { headers };
    },
    requestPolicy: 'cache-and-network',
    // urql defaults to GET for short queries; the API takes POST only (a GET
    // endpoint would invite cross-site requests and logs full of queries).
    preferGetMethod: false,
  });
}
