import type { ReactNode } from 'react';
import { Alert, Button, Center, Group, Loader, Paper, Stack, Text, Title } from '@mantine/core';
import type { CombinedError } from 'urql';
import { errorCode, errorText } from '../lib/errors';

export function FullPageLoader({ label, children }: { label: string; children?: ReactNode }) {
  return (
    <Center h="100vh">
      <Stack align="center" gap="sm" role="status" aria-live="polite">
        <Loader aria-hidden />
        <Text>{label}</Text>
        {children}
      </Stack>
    </Center>
  );
}

export function BootError({ error, onRetry }: { error: Error; onRetry: () => void }) {
  return (
    <Center h="100vh" p="md">
      <Paper withBorder p="xl" maw={520} role="alert">
        <Stack>
          <Title order={1} size="h3">
            Overshare cannot start
          </Title>
          <Text>{error.message}</Text>
          <Text size="sm" c="dimmed">
            The dashboard reads its settings from the Overshare server at /api/config.
          </Text>
          <Button onClick={onRetry}>Try again</Button>
        </Stack>
      </Paper>
    </Center>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Group gap="sm" p="lg" role="status" aria-live="polite">
      <Loader size="sm" aria-hidden />
      <Text c="dimmed">{label}</Text>
    </Group>
  );
}

export function ErrorState({
  error,
  onRetry,
  title = 'Something went wrong',
}: {
  error: CombinedError | Error | undefined | null;
  onRetry?: () => void;
  title?: string;
}) {
  const forbidden = error && 'graphQLErrors' in error && errorCode(error) === 'FORBIDDEN';
  return (
    <Alert color={forbidden ? 'yellow' : 'red'} title={forbidden ? 'Admin role needed' : title} role="alert">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{errorText(error)}</Text>
        {onRetry && !forbidden && (
          <Button size="xs" variant="light" onClick={onRetry}>
            Retry
          </Button>
        )}
      </Stack>
    </Alert>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Paper withBorder p="xl" radius="md">
      <Stack align="center" gap={4}>
        <Text fw={600}>{title}</Text>
        {children && (
          <Text size="sm" c="dimmed" ta="center">
            {children}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

export function AdminOnlyNote() {
  return (
    <Alert color="yellow" title="File details need the admin role" role="note">
      You are signed in with the viewer role, so Overshare shows you counts only. File names, people and
      links are visible to administrators; ask one to give you the admin role if you need them.
    </Alert>
  );
}
