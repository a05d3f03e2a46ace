import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { IntegrationsQuery } from './graphql/documents';
import type { IntegrationsQuery as IntegrationsQueryType } from './gql/graphql';
import { isAdmin } from './lib/roles';
import { useSession } from './auth/context';

export type IntegrationInfo = IntegrationsQueryType['integrations'][number];

interface IntegrationState {
  // The integration every screen is about; null when none exists (or, for a
  // viewer, none was named in the address).
  id: string | null;
  current: IntegrationInfo | null;
  list: IntegrationInfo[];
  fetching: boolean;
  error: ReturnType<typeof useQuery>[0]['error'];
  select: (id: string) => void;
  refetch: () => void;
}

const Ctx = createContext<IntegrationState | null>(null);
const STORAGE_KEY = 'overshare.integration';

// The integration a screen is about: the one the address (else the last visit)
// names when it exists, else the first. `list` is the admin's integration list,
// null until it arrives; until then the viewer query's ids stand in for it, so
// a screen can ask for its data at once (the list is fresher once loaded: an
// integration connected or deleted since sign-in).
export function chooseIntegration(
  admin: boolean,
  wanted: string | null,
  list: readonly { id: string }[] | null,
  integrationIds: readonly string[],
): string | null {
  if (admin) {
    const ids = list ? list.map((i) => i.id) : integrationIds;
    return ids.find((i) => i === wanted) ?? ids[0] ?? null;
  }
  // A viewer may read overview counts only, not list integrations: the
  // integration comes from the address, else from the viewer's own query.
  return integrationIds.find((i) => i === wanted) ?? integrationIds[0] ?? wanted ?? null;
}

export function storedIntegration(): string | null {
  return typeof window !== 'undefined' ? window.localStorage.getItem(STORAGE_KEY) : null;
}

export function IntegrationProvider({ children }: { children: ReactNode }) {
  const { roles, integrationIds } = useSession();
  const admin = isAdmin(roles);
  const [params, setParams] = useSearchParams();
  const [{ data, fetching, error }, refetch] = useQuery({ query: IntegrationsQuery, pause: !admin });
  const list = useMemo(() => data?.integrations ?? [], [data]);
  const id = chooseIntegration(admin, params.get('integration') ?? storedIntegration(), data ? list : null, integrationIds);

  useEffect(() => {
    if (id) window.localStorage.setItem(STORAGE_KEY, id);
  }, [id]);

  const select = useCallback(
    (next: string) => {
      window.localStorage.setItem(STORAGE_KEY, next);
      const p = new URLSearchParams(params);
      p.set('integration', next);
      setParams(p);
    },
    [params, setParams],
  );

  const value: IntegrationState = {
    id,
    current: list.find((i) => i.id === id) ?? null,
    list,
    fetching,
    error,
    select,
    refetch: () => refetch({ requestPolicy: 'network-only' }),
  };
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useIntegration(): IntegrationState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useIntegration outside IntegrationProvider');
  return v;
}
