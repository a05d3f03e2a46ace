import { Button, Group, Text } from '@mantine/core';
import { formatCount } from '../lib/format';

export function ListFooter({
  shown,
  total,
  hasMore,
  loading,
  onMore,
}: {
  shown: number;
  total: number | null;
  hasMore: boolean;
  loading: boolean;
  onMore: () => void;
}) {
  return (
    <Group justify="space-between">
      <Text size="sm" c="dimmed" aria-live="polite">
        Showing {formatCount(shown)}
        {total !== null ? ` of ${formatCount(total)}` : ''}
      </Text>
      {hasMore && (
        <Button variant="default" onClick={onMore} loading={loading}>
          Load more
        </Button>
      )}
    </Group>
  );
}
