import { useEffect, useState } from 'react';
import { Alert, Badge, Button, Group, Paper, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useSubscription } from 'urql';
import { useIntegration } from '../integration';
import { CancelSyncMutation, StartSyncMutation, SyncProgressSubscription, SyncRunsQuery } from '../graphql/documents';
import type { SyncProgressSubscription as Sub, SyncRunFieldsFragment } from '../gql/graphql';
import { Empty, ErrorState, Loading } from '../components/States';
import { errorText } from '../lib/errors';
import { formatCount, formatDateTime, formatDuration, formatEta, phaseLabel, progressPercent } from '../lib/format';

type Progress = Sub['syncProgress'];

// What the screen shows: the live event when one has arrived, else the run the
// server reports as current (so a reload mid-sync shows where it is at once).
function fromRun(r: SyncRunFieldsFragment, integrationId: string): Progress {
  return {
    runId: r.id,
    integrationId,
    phase: r.phase,
    drivesDone: r.drivesDone,
    drivesTotal: r.drivesTotal,
    drivesSkipped: r.drivesSkipped,
    itemsSeen: r.itemsSeen,
    sharedItems: r.sharedItems,
    permissionsRead: r.permissionsRead,
    requests: r.requests,
    resourceUnits: r.resourceUnits,
    throttledWaits: r.throttledWaits,
    etaSeconds: r.etaSeconds,
    done: r.status !== 'RUNNING',
    error: r.error,
  };
}

export default function LiveSync() {
  const integration = useIntegration();
  const id = integration.id;
  if (integration.fetching && !integration.list.length) return <Loading />;
  if (integration.error) return <ErrorState error={integration.error} onRetry={integration.refetch} />;
  if (!id) return <Empty title="No OneDrive connected yet">Connect one on the Integrations screen to start a sync.</Empty>;
  return <SyncView key={id} integrationId={id} />;
}

function SyncView({ integrationId }: { integrationId: string }) {
  const integration = useIntegration();
  const current = integration.current;
  const [runs, refetchRuns] = useQuery({ query: SyncRunsQuery, variables: { integrationId, first: 10 }, requestPolicy: 'network-only' });
  const [sub] = useSubscription({ query: SyncProgressSubscription, variables: { integrationId } });
  const [, startSync] = useMutation(StartSyncMutation);
  const [, cancelSync] = useMutation(CancelSyncMutation);
  const [actionError, setActionError] = useState<string | null>(null);
  const [startedAt, setStartedAt] = useState<string | null>(null);

  // Refresh the integration on arrival so currentRun is today's, not cached.
  useEffect(() => {
    integration.refetch();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const live = sub.data?.syncProgress ?? null;
  const run = current?.currentRun ?? null;
  const lastRun = runs.data?.syncRuns.edges[0]?.node ?? null;
  const progress: Progress | null = live ?? (run ? fromRun(run, integrationId) : lastRun ? fromRun(lastRun, integrationId) : null);
  const running = !!progress && !progress.done;
  const doneNow = !!live?.done;

  useEffect(() => {
    if (doneNow) {
      refetchRuns({ requestPolicy: 'network-only' });
      integration.refetch();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [doneNow, live?.runId]);

  const runStart = run?.startedAt ?? startedAt ?? lastRun?.startedAt ?? null;
  const finishedRun = runs.data?.syncRuns.edges.find((e) => e.node.id === progress?.runId)?.node;

  const start = async (full: boolean) => {
    setActionError(null);
    const res = await startSync({ integrationId, full });
    if (res.error) setActionError(errorText(res.error));
    else {
      setStartedAt(res.data?.startSync.startedAt ?? null);
      integration.refetch();
    }
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Live sync</Title>
        <Group gap="xs">
          {running && progress ? (
            <Button
              variant="default"
              onClick={async () => {
                const res = await cancelSync({ runId: progress.runId });
                if (res.error) setActionError(errorText(res.error));
              }}
            >
              Cancel sync
            </Button>
          ) : (
            <>
              <Button onClick={() => void start(false)} disabled={current?.status === 'PAUSED'}>
                Sync changes now
              </Button>
              <Button variant="default" onClick={() => void start(true)} disabled={current?.status === 'PAUSED'}>
                Full sync
              </Button>
            </>
          )}
        </Group>
      </Group>
      {current && (
        <Text size="sm" c="dimmed">
          {current.name} · last sync {formatDateTime(current.lastSyncAt)} · next {formatDateTime(current.nextSyncAt)}
        </Text>
      )}
      {current?.status === 'PAUSED' && <Alert color="yellow">This integration is paused. Resume it on the Integrations screen to sync.</Alert>}
      {actionError && (
        <Alert color="red" role="alert" title="The sync did not start">
          {actionError}
        </Alert>
      )}
      {sub.error && (
        <Alert color="orange" title="Live updates are interrupted">
          {errorText(sub.error)} The page retries on its own; the numbers below may lag.
        </Alert>
      )}
      {!progress && (runs.fetching ? <Loading /> : <Empty title="No sync has run yet">Start one with “Sync changes now”.</Empty>)}
      {progress && <ProgressPanel p={progress} startedAt={runStart} finished={finishedRun ?? null} />}
      <Paper withBorder p="md" radius="md">
        <Title order={3} size="h5" mb="sm">
          Recent runs
        </Title>
        {runs.error && <ErrorState error={runs.error} />}
        {runs.data && runs.data.syncRuns.edges.length === 0 && <Text c="dimmed">No runs yet.</Text>}
        {runs.data && runs.data.syncRuns.edges.length > 0 && (
          <Table.ScrollContainer minWidth={600}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Kind</Table.Th>
                  <Table.Th>Result</Table.Th>
                  <Table.Th ta="right">Items</Table.Th>
                  <Table.Th ta="right">Shared</Table.Th>
                  <Table.Th ta="right">Throttled</Table.Th>
                  <Table.Th>Duration</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {runs.data.syncRuns.edges.map(({ node }) => {
                  // The running row follows the live numbers rather than the page load's.
                  const r = live && !live.done && live.runId === node.id ? { ...node, itemsSeen: live.itemsSeen, sharedItems: live.sharedItems, throttledWaits: live.throttledWaits } : node;
                  return (
                  <Table.Tr key={r.id}>
                    <Table.Td>{formatDateTime(r.startedAt)}</Table.Td>
                    <Table.Td>
                      {r.full ? 'Full' : 'Changes'}
                      {!r.full && (r.drivesSwept > 0 || r.rootsRefreshed > 0) && (
                        <Text size="xs" c="dimmed">
                          {refreshSummary(r.drivesSwept, r.rootsRefreshed)}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <RunBadge status={r.status} />
                      {r.error && (
                        <Text size="xs" c="red">
                          {r.error}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td ta="right">{formatCount(r.itemsSeen)}</Table.Td>
                    <Table.Td ta="right">{formatCount(r.sharedItems)}</Table.Td>
                    <Table.Td ta="right">{formatCount(r.throttledWaits)}</Table.Td>
                    <Table.Td>
                      {r.finishedAt ? formatDuration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : 'running'}
                    </Table.Td>
                  </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Paper>
    </Stack>
  );
}

// refreshSummary says what a scheduled run's periodic refreshes did.
function refreshSummary(swept: number, roots: number): string {
  const parts: string[] = [];
  if (swept > 0) parts.push(`swept ${formatCount(swept)} ${swept === 1 ? 'drive' : 'drives'}`);
  if (roots > 0) parts.push(`re-read ${formatCount(roots)} sharing ${roots === 1 ? 'root' : 'roots'}`);
  return parts.join(' · ');
}

function RunBadge({ status }: { status: string }) {
  const color = status === 'SUCCEEDED' ? 'green' : status === 'FAILED' ? 'red' : status === 'RUNNING' ? 'blue' : 'gray';
  return (
    <Badge color={color} variant="light">
      {status.toLowerCase()}
    </Badge>
  );
}

function ProgressPanel({ p, startedAt, finished }: { p: Progress; startedAt: string | null; finished: SyncRunFieldsFragment | null }) {
  const pct = progressPercent(p);
  const failed = p.done && !!p.error;
  const status = !p.done ? phaseLabel(p.phase) : failed ? 'Sync failed' : finished?.status === 'CANCELLED' ? 'Sync cancelled' : 'Sync done';
  const color = failed ? 'red' : p.done ? 'green' : 'indigo';
  return (
    <Paper withBorder p="md" radius="md" data-testid="sync-progress">
      <Stack gap="sm">
        <Group justify="space-between">
          <Text fw={600} data-testid="sync-status" aria-live="polite">
            {status}
          </Text>
          <Text size="sm" c="dimmed">
            {!p.done ? `${pct} % · ${formatEta(p.etaSeconds)} left` : startedAt && finished?.finishedAt ? `took ${formatDuration(Date.parse(finished.finishedAt) - Date.parse(startedAt))}` : ''}
          </Text>
        </Group>
        <Progress
          value={pct}
          color={color}
          size="lg"
          striped={!p.done}
          animated={!p.done}
          aria-label={`Sync progress: ${status}`}
          aria-valuenow={pct}
          data-testid="sync-bar"
        />
        {failed && (
          <Alert color="red" role="alert" title="What went wrong">
            {p.error}
          </Alert>
        )}
        <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
          <Stat
            label="Drives"
            value={`${formatCount(p.drivesDone)} / ${formatCount(p.drivesTotal)}${p.drivesSkipped > 0 ? ` (${formatCount(p.drivesSkipped)} skipped: locked or closed to the app)` : ''}`}
          />
          <Stat label="Items seen" value={formatCount(p.itemsSeen)} />
          <Stat label="Shared items found" value={formatCount(p.sharedItems)} />
          <Stat label="Permissions read" value={formatCount(p.permissionsRead)} />
          <Stat label="Graph requests" value={formatCount(p.requests)} />
          <Stat label="Throttled waits" value={formatCount(p.throttledWaits)} />
        </SimpleGrid>
      </Stack>
    </Paper>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fw={700}>{value}</Text>
    </div>
  );
}
