import { useMemo } from 'react';
import { AuthProvider, type AuthProviderProps } from 'react-oidc-context';
import { WebStorageStateStore, type User } from 'oidc-client-ts';
import { BrowserRouter } from 'react-router';
import { Notifications } from '@mantine/notifications';
import type { RuntimeConfig } from './config';
import { AuthGate } from './auth/AuthGate';
import { ConfigContext } from './auth/context';

interface LoginState {
  returnTo?: string;
}

export function Root({ config }: { config: RuntimeConfig }) {
  const oidc = useMemo<AuthProviderProps>(() => {
    const origin = window.location.origin;
    return {
      authority: config.oidcIssuer,
      client_id: config.oidcClientId,
      redirect_uri: `${origin}/auth/callback`,
      silent_redirect_uri: `${origin}/auth/silent`,
      post_logout_redirect_uri: `${origin}/`,
      // Authorization Code with PKCE is oidc-client-ts's only flow for public clients.
      response_type: 'code',
      // The server's OVERSHARE_OIDC_SCOPES: with Entra ID a scope of Overshare's API
      // (without one the access token is for Microsoft Graph, which the server refuses).
      // offline_access, where configured, asks for a refresh token so silent renew works
      // without the hidden iframe (third-party cookies are often blocked); Keycloak gives
      // a session-bound refresh token without it. /auth/silent remains the fallback.
      scope: config.oidcScopes,
      ...(config.oidcAudience ? { extraQueryParams: { audience: config.oidcAudience } } : {}),
      automaticSilentRenew: true,
      userStore: new WebStorageStateStore({ store: window.sessionStorage }),
      onSigninCallback: (user: User | void) => {
        const state = (user?.state ?? {}) as LoginState;
        const to = state.returnTo && state.returnTo.startsWith('/') && !state.returnTo.startsWith('//') ? state.returnTo : '/';
        window.history.replaceState({}, document.title, to);
        // Let the router see the new address (it listens to popstate only).
        window.dispatchEvent(new PopStateEvent('popstate'));
      },
    };
  }, [config]);

  return (
    <ConfigContext.Provider value={config}>
      <AuthProvider {...oidc}>
        <Notifications position="top-right" />
        <BrowserRouter>
          <AuthGate />
        </BrowserRouter>
      </AuthProvider>
    </ConfigContext.Provider>
  );
}
