import { useState } from 'react';
import { Alert, Anchor, Badge, Group, Progress, Select, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useClient } from 'urql';
import { useIntegration } from '../integration';
import { DrivesQuery } from '../graphql/documents';
import type { DriveFilter, DrivesQuery as Q } from '../gql/graphql';
import { useCursorList } from '../components/useCursorList';
import { ListFooter } from '../components/ListFooter';
import { Empty, ErrorState, Loading } from '../components/States';
import { errorText } from '../lib/errors';
import { formatBytes, formatCount, formatDateTime, fraction } from '../lib/format';

type DriveRow = Q['drives']['edges'][number]['node'];

// Graph's quota.state values.
const STATES = ['normal', 'nearing', 'critical', 'exceeded'];

const ACCESS_LABEL: Record<string, string> = { LOCKED: 'Locked', NO_ACCESS: 'No access' };

// Why a drive was not read, under its owner: the sync skipped it and tries again next time.
function AccessWarning({ d }: { d: DriveRow }) {
  if (d.access === 'READABLE') return null;
  return (
    <Alert color="orange" p="xs" mt={4} data-testid="drive-access-warning" title={`${ACCESS_LABEL[d.access] ?? d.access}: not synced`}>
      <Text size="xs">{d.accessReason}</Text>
      {d.inaccessibleSince && (
        <Text size="xs" c="dimmed">
          Since {formatDateTime(d.inaccessibleSince)}; its sharing is unknown until it opens.
        </Text>
      )}
    </Alert>
  );
}

function stateColor(s: string): string {
  return s === 'exceeded' ? 'red' : s === 'critical' ? 'orange' : s === 'nearing' ? 'yellow' : 'green';
}

export default function Drives() {
  const integration = useIntegration();
  const client = useClient();
  const [state, setState] = useState<string | null>(null);
  const filter: DriveFilter = state ? { quotaState: [state] } : {};
  const id = integration.id;
  const list = useCursorList<DriveRow>(JSON.stringify([id, filter]), async (after) => {
    if (!id) return { nodes: [], hasNextPage: false, endCursor: null, totalCount: 0 };
    const res = await client.query(DrivesQuery, { integrationId: id, filter, first: 100, after }, { requestPolicy: 'network-only' }).toPromise();
    if (res.error || !res.data) throw new Error(errorText(res.error) || 'No answer from the server');
    const c = res.data.drives;
    return { nodes: c.edges.map((e) => e.node), hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor, totalCount: c.totalCount };
  });

  if (!id) return integration.fetching ? <Loading /> : <Empty title="No OneDrive connected yet" />;
  return (
    <Stack>
      <Title order={2}>Drives</Title>
      <Group>
        <Select
          label="Quota state"
          placeholder="Any"
          data={STATES}
          value={state}
          onChange={setState}
          clearable
          w={180}
        />
      </Group>
      {list.error && <ErrorState error={list.error} onRetry={list.reload} />}
      {list.loading && !list.rows.length && <Loading />}
      {!list.loading && !list.error && list.rows.length === 0 && <Empty title="No drives match" />}
      {list.rows.length > 0 && (
        <Table.ScrollContainer minWidth={720}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Owner</Table.Th>
                <Table.Th ta="right">Items</Table.Th>
                <Table.Th ta="right">Shared</Table.Th>
                <Table.Th w="40%">Quota</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.rows.map((d) => {
                const f = fraction(d.quota.used, d.quota.total);
                return (
                  <Table.Tr key={d.id}>
                    <Table.Td>
                      <Text size="sm" fw={500} data-testid="drive-owner">
                        {d.owner?.displayName ?? d.name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {d.driveType}
                      </Text>
                      <AccessWarning d={d} />
                    </Table.Td>
                    <Table.Td ta="right">{formatCount(d.itemCount)}</Table.Td>
                    <Table.Td ta="right">
                      {d.sharedItemCount > 0 ? (
                        <Anchor component={Link} to={`/files?drive=${encodeURIComponent(d.id)}`} size="sm">
                          {formatCount(d.sharedItemCount)}
                        </Anchor>
                      ) : (
                        '0'
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Progress
                          value={f * 100}
                          color={stateColor(d.quota.state)}
                          style={{ flex: 1 }}
                          aria-label={`${d.owner?.displayName ?? d.name}: ${Math.round(f * 100)} % of quota used`}
                        />
                        <Badge color={stateColor(d.quota.state)} variant="light" w={90}>
                          {d.quota.state}
                        </Badge>
                      </Group>
                      <Text size="xs" c="dimmed">
                        {formatBytes(d.quota.used)} of {formatBytes(d.quota.total)} · {Math.round(f * 100)} %
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <ListFooter shown={list.rows.length} total={list.total} hasMore={list.hasMore} loading={list.loading} onMore={list.loadMore} />
    </Stack>
  );
}
