import { describe, expect, it } from 'vitest';
import { certificateWarning, certificateWarningText } from './certificate';

const now = new Date('2026-12-08T00:00:00Z');
const fmt = (s: string) => s.slice(0, 10);

describe('certificateWarning', () => {
  it('says nothing for a secret or a certificate far from its end', () => {
    expect(certificateWarning(null, now)).toBeNull();
    expect(certificateWarning('2027-06-01T00:00:00Z', now)).toBeNull();
    expect(certificateWarning('2027-01-08T00:00:01Z', now)).toBeNull(); // 31 days
  });
  it('warns within 30 days, counting whole days left', () => {
    expect(certificateWarning('2027-01-06T12:00:00Z', now)).toEqual({ level: 'soon', days: 29 });
    expect(certificateWarning('2026-12-08T10:00:00Z', now)).toEqual({ level: 'soon', days: 0 });
  });
  it('says expired once the end has passed', () => {
    expect(certificateWarning('2026-12-07T23:59:59Z', now)).toEqual({ level: 'expired', days: 0 });
  });
  it('words the warning for people', () => {
    expect(certificateWarningText({ level: 'soon', days: 1 }, '2026-12-09T10:00:00Z', fmt)).toContain('expires tomorrow (2026-12-09)');
    expect(certificateWarningText({ level: 'expired', days: 0 }, '2026-12-01T00:00:00Z', fmt)).toContain('every sync fails');
  });
});
