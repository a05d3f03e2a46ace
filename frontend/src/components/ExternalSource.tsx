import { Text } from '@mantine/core';
import { externalSourceLine, type ExternalSourceFacts } from '../lib/externalSource';

// The line saying how "external" was decided: verified domains from Graph,
// or a guess from members' addresses (in orange, naming the permission).
export function ExternalSource({ facts }: { facts: ExternalSourceFacts | null | undefined }) {
  const line = externalSourceLine(facts);
  if (!line) return null;
  return (
    <Text size="sm" c={line.warn ? 'orange' : 'dimmed'} data-testid="external-source">
      {line.text}
    </Text>
  );
}
