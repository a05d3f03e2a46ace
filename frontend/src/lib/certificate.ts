// When to warn that an integration's certificate is about to stop signing in. Entra ID
// refuses an expired certificate's assertions (AADSTS700027), and every sync then fails, so
// the warning comes a month early: time to create, upload and rotate a new one.

export const WARN_DAYS = 30;

export type CertificateWarning = { level: 'expired' | 'soon'; days: number } | null;

export function certificateWarning(expiresAt: string | null | undefined, now: Date = new Date()): CertificateWarning {
  if (!expiresAt) return null;
  const ms = new Date(expiresAt).getTime() - now.getTime();
  if (Number.isNaN(ms)) return null;
  const days = Math.floor(ms / 86_400_000);
  if (ms <= 0) return { level: 'expired', days: 0 };
  if (days < WARN_DAYS) return { level: 'soon', days };
  return null;
}

export function certificateWarningText(w: NonNullable<CertificateWarning>, expiresAt: string, format: (s: string) => string): string {
  if (w.level === 'expired') {
    return `The certificate expired on ${format(expiresAt)}: Entra ID refuses it and every sync fails. Upload a new certificate to the app registration and rotate it here.`;
  }
  const when = w.days === 0 ? 'today' : w.days === 1 ? 'tomorrow' : `in ${w.days} days`;
  return `The certificate expires ${when} (${format(expiresAt)}). Upload a new certificate to the app registration and rotate it here before then, or syncs stop.`;
}
