import { Suspense, useState } from 'react';
import { NavLink as RouterNavLink, Route, Routes, useLocation } from 'react-router';
import {
  AppShell,
  Badge,
  Burger,
  Button,
  Group,
  NavLink,
  Select,
  Text,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useSession, useConfig } from './auth/context';
import { canOpen, isAdmin, visibleNav } from './lib/roles';
import { IntegrationProvider, useIntegration } from './integration';
import { AdminOnlyNote, Loading } from './components/States';
import { preloadable } from './lib/preload';

const Overview = preloadable(() => import('./pages/Overview'));
const SharedFiles = preloadable(() => import('./pages/SharedFiles'));
const LiveSync = preloadable(() => import('./pages/LiveSync'));
const Integrations = preloadable(() => import('./pages/Integrations'));
const Users = preloadable(() => import('./pages/Users'));
const Drives = preloadable(() => import('./pages/Drives'));
const Audit = preloadable(() => import('./pages/Audit'));

const SCREENS: Record<string, { preload: () => Promise<unknown> }> = {
  '/': Overview,
  '/files': SharedFiles,
  '/sync': LiveSync,
  '/integrations': Integrations,
  '/users': Users,
  '/drives': Drives,
  '/audit': Audit,
};

// Fetches the code of the screen an address opens while the page is still
// signing in, so it is ready when the session is.
export function preloadScreen(pathname: string): void {
  // A failure here is reported by the screen's own render, which tries again.
  SCREENS[pathname]?.preload().catch(() => {});
}

export function App() {
  return (
    <IntegrationProvider>
      <Shell />
    </IntegrationProvider>
  );
}

function Shell() {
  const session = useSession();
  const config = useConfig();
  const location = useLocation();
  const [opened, setOpened] = useState(false);
  const nav = visibleNav(session.roles);
  const admin = isAdmin(session.roles);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'md', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={() => setOpened((o) => !o)}
              hiddenFrom="md"
              size="sm"
              aria-label={opened ? 'Close navigation' : 'Open navigation'}
            />
            <Title order={1} size="h4">
              Overshare
            </Title>
            {admin && <IntegrationPicker />}
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" visibleFrom="sm" truncate maw={200} data-testid="user-name">
              {session.name}
            </Text>
            <Badge color={admin ? 'indigo' : 'gray'} variant="light" data-testid="user-role">
              {admin ? 'Admin' : 'Viewer'}
            </Badge>
            <Button variant="subtle" size="xs" onClick={session.signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        {nav.map((n) => (
            <NavLink
              key={n.path}
              component={RouterNavLink}
              to={{ pathname: n.path, search: keepIntegration(location.search) }}
              end={n.path === '/'}
              label={n.label}
              active={n.path === '/' ? location.pathname === '/' : location.pathname.startsWith(n.path)}
              onClick={() => setOpened(false)}
            />
          ))}
        {!admin && (
          <Text size="xs" c="dimmed" p="sm">
            Other screens need the admin role.
          </Text>
        )}
        <Text size="xs" c="dimmed" p="sm" mt="auto">
          Version {config.version}
        </Text>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          {canOpen(session.roles, location.pathname) ? (
            <Routes>
              <Route path="/" element={<Overview />} />
              <Route path="/files" element={<SharedFiles />} />
              <Route path="/sync" element={<LiveSync />} />
              <Route path="/integrations" element={<Integrations />} />
              <Route path="/users" element={<Users />} />
              <Route path="/drives" element={<Drives />} />
              <Route path="/audit" element={<Audit />} />
              <Route path="*" element={<NotFound />} />
            </Routes>
          ) : (
            <AdminOnlyNote />
          )}
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}

// Navigation keeps only the integration choice, not one screen's filters.
function keepIntegration(search: string): string {
  const id = new URLSearchParams(search).get('integration');
  return id ? `?integration=${encodeURIComponent(id)}` : '';
}

function IntegrationPicker() {
  const { list, id, select } = useIntegration();
  if (list.length < 2) return null;
  return (
    <>
      <VisuallyHidden>
        <label htmlFor="integration-picker">Integration</label>
      </VisuallyHidden>
      <Select
        id="integration-picker"
        size="xs"
        w={200}
        visibleFrom="sm"
        data={list.map((i) => ({ value: i.id, label: i.name }))}
        value={id}
        onChange={(v) => v && select(v)}
        allowDeselect={false}
      />
    </>
  );
}

function NotFound() {
  return (
    <Text role="alert">
      There is no page here. Use the navigation to pick a screen.
    </Text>
  );
}
