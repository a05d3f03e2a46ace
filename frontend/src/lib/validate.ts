const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export interface ConnectForm {
  name: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

// Checks the form can be sent; whether the credentials work is for the server
// to find out against Microsoft Graph.
export function validateConnect(f: ConnectForm): Partial<Record<keyof ConnectForm, string>> {
  const e: Partial<Record<keyof ConnectForm, string>> = {};
  if (!f.name.trim()) e.name = 'Give the integration a name, e.g. the company.';
  const t = f.tenantId.trim();
  if (!t) e.tenantId = 'Paste the Directory (tenant) ID from the app’s Overview page.';
  else if (!GUID.test(t) && !DOMAIN.test(t)) e.tenantId = 'A tenant ID looks like 00000000-0000-0000-0000-000000000000 (or contoso.onmicrosoft.com).';
  const c = f.clientId.trim();
  if (!c) e.clientId = 'Paste the Application (client) ID from the app’s Overview page.';
  else if (!GUID.test(c)) e.clientId = 'A client ID looks like 00000000-0000-0000-0000-000000000000.';
  if (!f.clientSecret) e.clientSecret = 'Paste the client secret’s Value (not its Secret ID).';
  else if (GUID.test(f.clientSecret.trim())) e.clientSecret = 'That looks like the Secret ID. Paste the secret’s Value instead.';
  return e;
}
