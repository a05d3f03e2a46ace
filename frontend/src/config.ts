// Runtime configuration comes from the server that serves the SPA, so one build
// works for every deployment (issuer and client id are never baked in).
export interface RuntimeConfig {
  oidcIssuer: string;
  oidcClientId: string;
  graphqlUrl: string;
  graphqlWsUrl: string;
  version: string;
}

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
