import { Badge } from '@mantine/core';
import type { SharingScope } from '../gql/graphql';
import { scopeColor, scopeShort } from '../lib/format';

export function ScopeBadge({ scope }: { scope: SharingScope | null | undefined }) {
  if (!scope) return <Badge color="gray" variant="light">Not shared</Badge>;
  return (
    <Badge color={scopeColor(scope)} variant="light" title={scope}>
      {scopeShort(scope)}
    </Badge>
  );
}

export function LinkTypeBadge({ type }: { type: string }) {
  const color = type === 'edit' ? 'red' : type === 'view' ? 'gray' : 'grape';
  return (
    <Badge color={color} variant="outline" size="sm">
      {type}
    </Badge>
  );
}
