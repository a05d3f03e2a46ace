import { useEffect, useMemo, useRef } from 'react';
import { hasAuthParams, useAuth } from 'react-oidc-context';
import { Button, Center, Paper, Stack, Text, Title } from '@mantine/core';
import { useLocation } from 'react-router';
import { Provider as UrqlProvider, useClient, useQuery } from 'urql';
import { makeClient } from '../client';
import { useConfig, SessionContext, type Session } from './context';
import { ViewerQuery } from '../graphql/documents';
import { FullPageLoader } from '../components/States';
import { errorText } from '../lib/errors';
import { App } from '../App';
import { prefetchForAddress } from '../files/firstPage';

export function AuthGate() {
  const auth = useAuth();
  const location = useLocation();
  const tried = useRef(false);
  const config = useConfig();

  // Keep the latest token in a ref so the GraphQL client (created once) always
  // sends the renewed one; oidc-client-ts renews it in the background.
  const token = useRef<string | undefined>(undefined);
  token.current = auth.user?.access_token;
  const authRef = useRef(auth);
  authRef.current = auth;
  const renewing = useRef(false);
  const lastRenew = useRef(0);
  const client = useMemo(
    () =>
      makeClient(
        config,
        () => token.current,
        () => {
          // At most one renewal a minute: a token the server refuses for another
          // reason (wrong audience) must show its error, not loop.
          if (renewing.current || Date.now() - lastRenew.current < 60_000) return;
          renewing.current = true;
          lastRenew.current = Date.now();
          const a = authRef.current;
          a.signinSilent()
            .catch(() => a.signinRedirect({ state: { returnTo: window.location.pathname + window.location.search } }))
            .finally(() => {
              renewing.current = false;
            });
        },
      ),
    [config],
  );

  const signIn = () =>
    void auth.signinRedirect({ state: { returnTo: location.pathname + location.search } });

  useEffect(() => {
    if (tried.current || auth.isLoading || auth.isAuthenticated || auth.activeNavigator || auth.error) return;
    if (hasAuthParams()) return;
    tried.current = true;
    signIn();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [auth.isLoading, auth.isAuthenticated, auth.activeNavigator, auth.error]);

  if (auth.error) {
    return (
      <Center h="100vh" p="md">
        <Paper withBorder p="xl" maw={520} role="alert">
          <Stack>
            <Title order={1} size="h3">
              Sign-in failed
            </Title>
            <Text>
              {auth.error.message === 'Failed to fetch'
                ? 'The sign-in provider cannot be reached.'
                : auth.error.message}
            </Text>
            <Text size="sm" c="dimmed">
              Check that the identity provider at {config.oidcIssuer} is reachable and that the client “
              {config.oidcClientId}” allows this address as a redirect URI.
            </Text>
            <Text size="sm" c="dimmed" data-testid="signin-scopes">
              The dashboard asked for the scopes “{config.oidcScopes}” (OVERSHARE_OIDC_SCOPES); a provider refuses
              scopes of two APIs, or offline_access for users without offline tokens.
            </Text>
            <Button onClick={signIn}>Sign in again</Button>
          </Stack>
        </Paper>
      </Center>
    );
  }
  if (auth.isLoading || auth.activeNavigator || !auth.isAuthenticated) {
    return (
      <FullPageLoader label="Redirecting to sign in…">
        {!auth.isLoading && !auth.activeNavigator && (
          <Button variant="light" onClick={signIn}>
            Sign in
          </Button>
        )}
      </FullPageLoader>
    );
  }
  return (
    <UrqlProvider value={client}>
      <WithViewer signOut={() => void auth.signoutRedirect()} />
    </UrqlProvider>
  );
}

function WithViewer({ signOut }: { signOut: () => void }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ViewerQuery });
  // Shares the request above (urql sends one for both); its answer arrives here
  // before React renders it, so the screen's data can be asked for first.
  const client = useClient();
  useEffect(() => {
    void client
      .query(ViewerQuery, {})
      .toPromise()
      .then((r) => {
        if (r.data) prefetchForAddress(client, r.data.viewer);
      });
  }, [client]);
  const session = useMemo<Session | null>(
    () =>
      data
        ? {
            subject: data.viewer.subject,
            name: data.viewer.name || data.viewer.email || data.viewer.subject,
            roles: data.viewer.roles,
            integrationIds: data.viewer.integrationIds,
            signOut,
          }
        : null,
    [data, signOut],
  );
  if (fetching && !data) return <FullPageLoader label="Loading your account…" />;
  if (error || !session) {
    return (
      <Center h="100vh" p="md">
        <Paper withBorder p="xl" maw={520} role="alert">
          <Stack>
            <Title order={1} size="h3">
              Cannot load your account
            </Title>
            <Text>{errorText(error) || 'The server did not say who you are.'}</Text>
            <Button onClick={() => refetch({ requestPolicy: 'network-only' })}>Try again</Button>
            <Button variant="subtle" onClick={signOut}>
              Sign out
            </Button>
          </Stack>
        </Paper>
      </Center>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <App />
    </SessionContext.Provider>
  );
}
