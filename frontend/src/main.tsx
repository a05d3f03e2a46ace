import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import './app.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MantineProvider } from '@mantine/core';
import { UserManager } from 'oidc-client-ts';
import { loadConfig } from './config';
import { Root } from './Root';
import { preloadScreen } from './App';
import { BootError, FullPageLoader } from './components/States';
import { theme } from './theme';

const root = createRoot(document.getElementById('root')!);

function render(node: React.ReactNode) {
  root.render(
    <StrictMode>
      <MantineProvider theme={theme} defaultColorScheme="light">
        {node}
      </MantineProvider>
    </StrictMode>,
  );
}

async function boot() {
  render(<FullPageLoader label="Loading Overshare…" />);
  preloadScreen(window.location.pathname);
  try {
    const config = await loadConfig();
    if (window.location.pathname === '/auth/silent') {
      // Hidden iframe of a silent renew: hand the response to the parent window.
      await new UserManager({
        authority: config.oidcIssuer,
        client_id: config.oidcClientId,
        redirect_uri: `${window.location.origin}/auth/callback`,
      }).signinSilentCallback();
      return;
    }
    render(<Root config={config} />);
  } catch (err) {
    render(<BootError error={err instanceof Error ? err : new Error(String(err))} onRetry={() => void boot()} />);
  }
}

void boot();
