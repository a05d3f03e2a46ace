const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export type CredentialChoice = 'secret' | 'certificate';

export interface ConnectForm {
  name: string;
  tenantId: string;
  clientId: string;
  // Which credential the app signs in with; a client secret when absent.
  credential?: CredentialChoice;
  clientSecret: string;
  // A PEM with the certificate and its private key; sent only when credential is 'certificate'.
  certificate?: string;
}

// Checks a certificate PEM as far as the browser can: both blocks present and the key not
// encrypted. Whether Entra ID knows the certificate is the server's to find out.
export function validateCertificate(pem: string): string | undefined {
  if (!pem.trim()) return 'Paste the PEM with the certificate and its private key, or load the file.';
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'The PEM needs the certificate (a -----BEGIN CERTIFICATE----- block) besides the key.';
  if (pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || pem.includes('Proc-Type: 4,ENCRYPTED'))
    return 'The private key is encrypted: decrypt it first (openssl pkey -in key.pem -out plain.pem).';
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(pem)) return 'The PEM needs the certificate’s private key (-----BEGIN PRIVATE KEY-----) too.';
  return undefined;
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
  if (f.credential === 'certificate') {
    const c = validateCertificate(f.certificate ?? '');
    if (c) e.certificate = c;
  } else if (!f.clientSecret) e.clientSecret = 'Paste the client secret’s Value (not its Secret ID).';
  else if (GUID.test(f.clientSecret.trim())) e.clientSecret = 'That looks like the Secret ID. Paste the secret’s Value instead.';
  return e;
}
