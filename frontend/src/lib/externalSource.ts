// Which source decided who is external (Integration.tenantFacts), as the
// line the dashboard shows beside external counts. The server words the
// note; the dashboard adds only the lead and the emphasis.
export type ExternalSourceFacts = {
  externalSource: 'VERIFIED_DOMAINS' | 'GUESSED' | 'UNKNOWN';
  externalSourceNote: string;
};

export function externalSourceLine(f: ExternalSourceFacts | null | undefined): { text: string; warn: boolean } | null {
  if (!f) return null;
  return { text: `Who is external: ${f.externalSourceNote}`, warn: f.externalSource === 'GUESSED' };
}
