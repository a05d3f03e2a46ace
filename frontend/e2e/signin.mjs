// Sign-in through the development provider shaped like a real one (`overshare demo
// --idp-profile entra|keycloak`): the dashboard asks for the scopes the server names, the admin
// and the viewer see their roles, the tokens have the provider's shape, and the scopes a real
// provider answers badly (Entra: none of the API; Keycloak: offline_access) fail in words.
// Usage: node e2e/signin.mjs <data-dir>/demo.json
import { readFileSync } from 'node:fs';
import { launch } from './browser.mjs';

const demo = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const base = demo.url.replace(/\/$/, '');
const profile = demo.idpProfile;

function assert(cond, msg) {
  if (!cond) throw new Error(`${profile}: ${msg}`);
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

// Signs in on a fresh page (no provider session), optionally with the dashboard's scopes
// replaced, and returns the page.
async function signIn(context, who, scopes) {
  await context.clearCookies();
  const page = await context.newPage();
  if (scopes) {
    await page.route('**/api/config', async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, json: { ...(await res.json()), oidcScopes: scopes } });
    });
  }
  await page.goto(`${base}/`);
  await page.getByLabel('Username').waitFor({ timeout: 30_000 });
  assert(page.url().startsWith(demo.issuer), `the login form is the provider's, got ${page.url()}`);
  await page.getByLabel('Username').fill(demo.users[who].username);
  await page.getByLabel('Password').fill(demo.users[who].password);
  await page.getByRole('button', { name: /sign in/i }).click();
  return page;
}

// The session oidc-client-ts keeps (sessionStorage): the tokens the provider gave the SPA.
async function session(page) {
  return page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
    return key ? JSON.parse(sessionStorage.getItem(key)) : null;
  });
}

const checks = {
  entra(at, user) {
    assert(at.ver === '2.0' && at.iss === demo.issuer && /\/v2\.0$/.test(at.iss), `a v2.0 token from the v2.0 issuer: ${at.ver} ${at.iss}`);
    assert(/^[0-9a-f-]{36}$/.test(at.aud) && demo.scopes.includes(`api://${at.aud}/`), `aud is the API app's id: ${at.aud}`);
    assert(at.scp === 'Overshare.Access' && at.tid && at.azp, `scp/tid/azp: ${at.scp} ${at.tid} ${at.azp}`);
    assert(at.roles?.includes(`Overshare.${user === 'admin' ? 'Admin' : 'Viewer'}`), `app roles: ${at.roles}`);
  },
  keycloak(at, user, s) {
    assert(at.typ === 'Bearer' && at.azp && at.aud === 'overshare-api', `typ/azp/aud: ${at.typ} ${at.azp} ${at.aud}`);
    assert(at.realm_access?.roles?.includes(`overshare-${user}`), `realm roles: ${JSON.stringify(at.realm_access)}`);
    assert(!demo.scopes.includes('offline_access') && s.refresh_token, 'a refresh token without offline_access');
  },
};

const failures = {
  // Entra without a scope of the API: a Graph token, which the server refuses naming the scope.
  entra: {
    scopes: 'openid profile email offline_access',
    async expect(page) {
      const alert = page.getByRole('alert').filter({ hasText: 'Cannot load your account' });
      await alert.waitFor({ timeout: 30_000 });
      const text = await alert.innerText();
      const apiScope = demo.scopes.split(' ').find((s) => s.startsWith('api://'));
      assert(text.includes('Microsoft Graph') && text.includes(apiScope), `the refusal names Graph and ${apiScope}: ${text}`);
      const at = claims((await session(page)).access_token);
      assert(at.aud === '00000003-0000-0000-c000-000000000000', `the token was Graph's: ${at.aud}`);
    },
  },
  // Keycloak with offline_access for users without the role: refused at the token endpoint.
  keycloak: {
    scopes: 'openid profile email offline_access',
    async expect(page) {
      const alert = page.getByRole('alert').filter({ hasText: 'Sign-in failed' });
      await alert.waitFor({ timeout: 30_000 });
      const text = await alert.innerText();
      assert(text.includes('Offline tokens not allowed for the user or client') && text.includes('offline_access'), `the refusal says why: ${text}`);
    },
  },
};

const started = Date.now();
const browser = await launch();
try {
  const f = failures[profile];
  assert(f, `no checks for profile ${profile}`);
  await f.expect(await signIn(browser.context, 'admin', f.scopes));
  console.log(`ok   ${profile}: the scopes a real provider answers badly fail in words`);

  for (const who of ['admin', 'viewer']) {
    const page = await signIn(browser.context, who);
    const badge = page.getByTestId('user-role');
    await badge.waitFor({ timeout: 30_000 });
    const role = await badge.innerText();
    assert(role.toLowerCase() === who, `${who} sees the role badge ${role}`);
    const s = await session(page);
    assert(s?.access_token, 'the session holds the access token');
    checks[profile](claims(s.access_token), who, s);
    console.log(`ok   ${profile}: ${who} signs in and sees the ${role} role`);
    await page.close();
  }
} catch (e) {
  console.log(`FAIL ${e.message.split('\n')[0]}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
console.log(`${profile} sign-in checks took ${((Date.now() - started) / 1000).toFixed(1)} s`);
