import { Paper, Text, UnstyledButton } from '@mantine/core';
import { Link } from 'react-router';
import { formatCount } from '../lib/format';

export function StatCard({
  label,
  value,
  hint,
  to,
  color,
}: {
  label: string;
  value: number | null | undefined;
  hint?: string;
  to?: string;
  color?: string;
}) {
  const body = (
    <Paper withBorder p="md" radius="md" h="100%">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} c={color} data-testid={`stat-${label}`}>
        {formatCount(value)}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Paper>
  );
  if (!to) return body;
  return (
    <UnstyledButton component={Link} to={to} aria-label={`${label}: ${formatCount(value)} — show them`} h="100%">
      {body}
    </UnstyledButton>
  );
}
