// Sign-in through Ory Hydra, a certified OpenID provider Overshare did not write, in a real
// browser: the dashboard sends the browser to Hydra, Hydra to the login form, back through
// consent to the dashboard, which fetches its tokens from Hydra (CORS) with the audience named
// in the request (OVERSHARE_OIDC_AUDIENCE_PARAM), and shows each person's role.
// Run by TestBrowserSignInWithHydra (cmd/overshare), which starts Hydra and the server.
// Usage: node e2e/signin-hydra.mjs <dashboard base URL> <Hydra issuer>
import { launch } from './browser.mjs';

const [base, issuer] = process.argv.slice(2);

function assert(cond, msg) {
  if (!cond) throw new Error(`hydra: ${msg}`);
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

const started = Date.now();
const browser = await launch();
let page;
try {
  for (const [user, role] of [['alice', 'admin'], ['victor', 'viewer']]) {
    await browser.context.clearCookies();
    page = await browser.context.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('Username').waitFor({ timeout: 30_000 });
    assert(!page.url().startsWith(base), `the login form is the provider's, got ${page.url()}`);
    await page.getByLabel('Username').fill(user);
    await page.getByRole('button', { name: /sign in/i }).click();
    const badge = page.getByTestId('user-role');
    await badge.waitFor({ timeout: 30_000 });
    const shown = await badge.innerText();
    assert(shown.toLowerCase() === role, `${user} sees the role badge ${shown}, want ${role}`);
    const session = await page.evaluate(() => {
      const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
      return key ? JSON.parse(sessionStorage.getItem(key)) : null;
    });
    const at = claims(session.access_token);
    assert(at.iss === issuer && [].concat(at.aud).includes('overshare-api'), `Hydra's token for the API: iss ${at.iss}, aud ${at.aud}`);
    console.log(`ok   hydra: ${user} signs in through Hydra and sees the ${shown} role`);
    await page.close();
  }
} catch (e) {
  console.log(`FAIL ${e.message.split('\n')[0]}`);
  if (page) {
    console.log(`     at ${page.url()}: ${(await page.locator('body').innerText().catch(() => '')).slice(0, 400)}`);
    const s = await page.evaluate(() => Object.entries(sessionStorage)).catch(() => []);
    for (const [k, v] of s) if (k.startsWith('oidc.user:')) console.log(`     token claims: ${JSON.stringify(claims(JSON.parse(v).access_token))}`);
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
console.log(`hydra sign-in checks took ${((Date.now() - started) / 1000).toFixed(1)} s`);
