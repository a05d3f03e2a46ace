import { useEffect, useState } from 'react';
import { Alert, Button, Group, List, Modal, ScrollArea, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation } from 'urql';
import { StopSharingBulkMutation } from '../graphql/documents';
import type { DriveItemFilter, StopSharingBulkMutation as Result } from '../gql/graphql';
import { bulkSummary, describePermission } from '../lib/confirm';
import { errorText } from '../lib/errors';
import { Loading } from '../components/States';

type Bulk = Result['stopSharingBulk'];

// Bulk stop sharing always shows the dry run first: the same filter, nothing
// changed, the list of what would go. Only then can the person confirm.
export function BulkStop({
  opened,
  integrationId,
  filter,
  filterWords,
  onClose,
  onDone,
}: {
  opened: boolean;
  integrationId: string;
  filter: DriveItemFilter;
  filterWords: string;
  onClose: () => void;
  onDone: () => void;
}) {
  const [, run] = useMutation(StopSharingBulkMutation);
  const [preview, setPreview] = useState<Bulk | null>(null);
  const [result, setResult] = useState<Bulk | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!opened) return;
    setPreview(null);
    setResult(null);
    setError(null);
    setBusy(true);
    void run({ integrationId, filter, dryRun: true }).then((res) => {
      setBusy(false);
      if (res.error || !res.data) setError(errorText(res.error) || 'No answer from the server');
      else setPreview(res.data.stopSharingBulk);
    });
    // The filter is captured when the dialog opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [opened]);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    const res = await run({ integrationId, filter, dryRun: false });
    setBusy(false);
    if (res.error || !res.data) {
      setError(errorText(res.error) || 'No answer from the server');
      return;
    }
    const r = res.data.stopSharingBulk;
    setResult(r);
    onDone();
    notifications.show({
      color: r.failed.length ? 'orange' : 'green',
      title: 'Bulk stop sharing finished',
      message: `${r.removed.length} removed, ${r.failed.length} failed.`,
    });
  };

  return (
    <Modal opened={opened} onClose={() => !busy && onClose()} title="Stop sharing for every matching item" size="xl" centered>
      <Stack>
        <Text size="sm">Filter: {filterWords}</Text>
        {busy && !preview && <Loading label="Working out what would be removed (dry run)…" />}
        {error && (
          <Alert color="red" role="alert" title="It did not work">
            {error}
          </Alert>
        )}
        {preview && !result && (
          <>
            <Alert color={preview.permissions ? 'orange' : 'gray'} title="Dry run" data-testid="bulk-preview-summary">
              {bulkSummary(preview.items, preview.permissions, true)}
            </Alert>
            {preview.preview.length > 0 && (
              <ScrollArea.Autosize mah={320} type="auto">
                <List size="sm" spacing={4} data-testid="bulk-preview-list">
                  {preview.preview.map((p) => (
                    <List.Item key={p.item.id}>
                      <Text span fw={500}>
                        {p.item.name}
                      </Text>{' '}
                      <Text span size="xs" c="dimmed">
                        {p.item.path}
                      </Text>
                      <List size="xs" withPadding>
                        {p.permissions.map((perm) => (
                          <List.Item key={perm.id}>
                            {describePermission({ ...perm, inherited: false, grantedToIdentities: [] })}
                          </List.Item>
                        ))}
                      </List>
                    </List.Item>
                  ))}
                </List>
              </ScrollArea.Autosize>
            )}
            {preview.preview.length < preview.items && (
              <Text size="xs" c="dimmed">
                Showing the first {preview.preview.length} of {preview.items} items.
              </Text>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose} disabled={busy}>
                Cancel
              </Button>
              <Button color="red" onClick={() => void confirm()} loading={busy} disabled={!preview.permissions}>
                Stop sharing for {preview.items} {preview.items === 1 ? 'item' : 'items'}
              </Button>
            </Group>
          </>
        )}
        {result && (
          <>
            <Alert color={result.failed.length ? 'orange' : 'green'} title="Done">
              {bulkSummary(result.items, result.removed.length, false)}
              {result.failed.length > 0 && ` ${result.failed.length} could not be removed.`}
            </Alert>
            {result.failed.length > 0 && (
              <List size="sm">
                {result.failed.slice(0, 50).map((f) => (
                  <List.Item key={f.permissionId}>{f.message}</List.Item>
                ))}
              </List>
            )}
            <Group justify="flex-end">
              <Button onClick={onClose}>Close</Button>
            </Group>
          </>
        )}
      </Stack>
    </Modal>
  );
}
