// Renders the built SPA without a backend: vite preview serves dist, and a stub
// /api/config points at an identity provider that does not exist. The app must
// boot, fetch its config and show the sign-in state, not a blank page.
import { preview } from 'vite';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.ARTIFACTS || join(here, '..', '..', 'test-artifacts');
mkdirSync(artifacts, { recursive: true });

const server = await preview({
  root: join(here, '..'),
  configFile: false,
  preview: { port: 0, host: '127.0.0.1', strictPort: false },
  plugins: [
    {
      name: 'stub-config',
      configurePreviewServer(s) {
        s.middlewares.use('/api/config', (_req, res) => {
          res.setHeader('Content-Type', 'application/json');
          res.end(
            JSON.stringify({
              oidcIssuer: 'http://127.0.0.1:9/no-idp',
              oidcClientId: 'overshare-spa',
              graphqlUrl: '/graphql',
              graphqlWsUrl: '/graphql',
              version: 'smoke',
            }),
          );
        });
      },
    },
  ],
});
const url = server.resolvedUrls.local[0];
const b = await launch();
let failed = 0;
try {
  for (const [w, h] of [
    [1280, 800],
    [768, 1024],
  ]) {
    const page = await b.context.newPage();
    await page.setViewportSize({ width: w, height: h });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    const heading = page.getByRole('heading', { name: 'Sign-in failed' });
    await heading.waitFor({ timeout: 20000 });
    await page.getByRole('button', { name: 'Sign in again' }).waitFor();
    await page.screenshot({ path: join(artifacts, `smoke-signin-${w}.png`) });
    if (errors.length) {
      failed++;
      console.log(`FAIL smoke ${w}px: page errors: ${errors.join('; ')}`);
    } else console.log(`ok   smoke ${w}px: sign-in screen rendered`);
    await page.close();
  }
} catch (e) {
  failed++;
  console.log(`FAIL smoke: ${e.message}`);
} finally {
  await b.close();
  await new Promise((r) => server.httpServer.close(r));
}
console.log(`${failed ? 0 : 2} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
