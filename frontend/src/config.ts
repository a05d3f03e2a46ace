// Runtime configuration comes from the server that serves the SPA, so one build
// works for every deployment (issuer and client id are never baked in).
export interface RuntimeConfig {
  oidcIssuer: string;
  oidcClientId: string;
  // Space-separated, as OAuth writes them (OVERSHARE_OIDC_SCOPES): Entra ID needs a scope of
  // Overshare's API here, and offline_access only where the provider grants it.
  oidcScopes: string;
  // Sent as audience= in the sign-in request when set (OVERSHARE_OIDC_AUDIENCE_PARAM): Ory Hydra
  // and Auth0 issue a token for an API only when the request names it.
  oidcAudience?: string;
  graphqlUrl: string;
  graphqlWsUrl: string;
  version: string;
}

// What a server that names no scopes (one older than the setting) always had the SPA request.
export const DEFAULT_SCOPES = 'openid profile email offline_access';

function absolute(url: string, base: string, ws: boolean): string {
  const u = new URL(url, base);
  if (ws && (u.protocol === 'http:' || u.protocol === 'https:')) {
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  }
  return u.toString();
}

export function parseConfig(raw: unknown, base: string): RuntimeConfig {
  if (!raw || typeof raw !== 'object') throw new Error('The server sent no configuration');
  const r = raw as Record<string, unknown>;
  const str = (k: string): string => {
    const v = r[k];
    if (typeof v !== 'string' || v === '') throw new Error(`The server configuration lacks ${k}`);
    return v;
  };
  const graphqlUrl = absolute(str('graphqlUrl'), base, false);
  const ws = typeof r.graphqlWsUrl === 'string' && r.graphqlWsUrl ? r.graphqlWsUrl : graphqlUrl;
  return {
    oidcIssuer: str('oidcIssuer'),
    oidcClientId: str('oidcClientId'),
    oidcScopes: typeof r.oidcScopes === 'string' && r.oidcScopes.trim() ? r.oidcScopes.trim() : DEFAULT_SCOPES,
    ...(typeof r.oidcAudience === 'string' && r.oidcAudience ? { oidcAudience: r.oidcAudience } : {}),
    graphqlUrl,
    graphqlWsUrl: absolute(ws, base, true),
    version: typeof r.version === 'string' ? r.version : 'dev',
  };
}

export async function loadConfig(signal?: AbortSignal): Promise<RuntimeConfig> {
  const res = await fetch('/api/config', { headers: { Accept: 'application/json' }, signal });
  if (!res.ok) throw new Error(`GET /api/config answered ${res.status}`);
  return parseConfig(await res.json(), window.location.origin);
}
