import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { MantineProvider } from '@mantine/core';
import { ExternalSource } from '../components/ExternalSource';
import { externalSourceLine } from './externalSource';

const verified = { externalSource: 'VERIFIED_DOMAINS' as const, externalSourceNote: 'Verified domains from Microsoft Graph.' };
const guessed = {
  externalSource: 'GUESSED' as const,
  externalSourceNote: "Guessed from members' addresses: grant Organization.Read.All for exact answers.",
};

function html(facts: Parameters<typeof ExternalSource>[0]['facts']): string {
  return renderToString(createElement(MantineProvider, null, createElement(ExternalSource, { facts })));
}

// lineTag is the opening tag of the rendered line, where its colour is.
function lineTag(out: string): string {
  const m = /<[^>]*data-testid="external-source"[^>]*>/.exec(out);
  expect(m).not.toBeNull();
  return m?.[0] ?? '';
}

describe('external source line', () => {
  it('says the verified domains were used, quietly', () => {
    expect(externalSourceLine(verified)).toEqual({ text: 'Who is external: Verified domains from Microsoft Graph.', warn: false });
    const out = html(verified);
    expect(out).toContain('Who is external: Verified domains from Microsoft Graph.');
    expect(lineTag(out)).not.toContain('orange');
  });

  it('says the answer is a guess and names the permission, in warning colour', () => {
    const line = externalSourceLine(guessed);
    expect(line?.warn).toBe(true);
    const out = html(guessed);
    expect(out).toContain('Who is external: Guessed from members&#x27; addresses: grant Organization.Read.All for exact answers.');
    expect(lineTag(out)).toContain('orange');
  });

  it('shows nothing before the facts are loaded', () => {
    expect(externalSourceLine(null)).toBeNull();
    expect(html(undefined)).not.toContain('external-source');
  });
});
