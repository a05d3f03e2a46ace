import { createContext, useContext } from 'react';
import type { RuntimeConfig } from '../config';
import type { Role } from '../gql/graphql';

export const ConfigContext = createContext<RuntimeConfig | null>(null);

export function useConfig(): RuntimeConfig {
  const c = useContext(ConfigContext);
  if (!c) throw new Error('useConfig outside ConfigContext');
  return c;
}

export interface Session {
  subject: string;
  name: string;
  roles: Role[];
  // The connected tenants; a viewer cannot list integrations, so this is how
  // its overview finds one.
  integrationIds: string[];
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionContext');
  return s;
}
