import { useState } from 'react';
import { Anchor, Badge, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useClient } from 'urql';
import { useIntegration } from '../integration';
import { AuditEventsQuery } from '../graphql/documents';
import type { AuditEventFilter, AuditEventsQuery as Q } from '../gql/graphql';
import { useCursorList } from '../components/useCursorList';
import { ListFooter } from '../components/ListFooter';
import { Empty, ErrorState, Loading } from '../components/States';
import { errorText } from '../lib/errors';
import { formatDateTime } from '../lib/format';

type Event = Q['auditEvents']['edges'][number]['node'];

const RESULTS = ['removed', 'already_removed', 'failed', 'updated'];

function resultColor(r: string): string {
  return r === 'removed' ? 'green' : r === 'already_removed' ? 'teal' : r === 'failed' ? 'red' : 'blue';
}

export default function Audit() {
  const integration = useIntegration();
  const client = useClient();
  const [result, setResult] = useState<string | null>(null);
  const filter: AuditEventFilter = result ? { result } : {};
  const id = integration.id;
  const list = useCursorList<Event>(JSON.stringify([id, filter]), async (after) => {
    const res = await client
      .query(AuditEventsQuery, { integrationId: id, filter, first: 100, after }, { requestPolicy: 'network-only' })
      .toPromise();
    if (res.error || !res.data) throw new Error(errorText(res.error) || 'No answer from the server');
    const c = res.data.auditEvents;
    return { nodes: c.edges.map((e) => e.node), hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor, totalCount: c.totalCount };
  });

  return (
    <Stack>
      <Title order={2}>Audit log</Title>
      <Text size="sm" c="dimmed">
        Who stopped sharing what, when, and with what result.
      </Text>
      <Group>
        <Select label="Result" placeholder="Any" data={RESULTS} value={result} onChange={setResult} clearable w={180} />
      </Group>
      {list.error && <ErrorState error={list.error} onRetry={list.reload} />}
      {list.loading && !list.rows.length && <Loading />}
      {!list.loading && !list.error && list.rows.length === 0 && (
        <Empty title="Nothing in the audit log yet">Every stop-sharing and expiry change is recorded here.</Empty>
      )}
      {list.rows.length > 0 && (
        <Table.ScrollContainer minWidth={900}>
          <Table striped data-testid="audit-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Who</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Item</Table.Th>
                <Table.Th>Sharing</Table.Th>
                <Table.Th>Result</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.rows.map((e) => (
                <Table.Tr key={e.id} data-testid="audit-row">
                  <Table.Td>
                    <Text size="sm">{formatDateTime(e.at)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{e.actorName ?? e.actorSubject}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{e.action.replace(/_/g, ' ')}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {e.itemName ?? '—'}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {e.itemPath}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">
                      {[e.linkScope?.toLowerCase(), e.linkType].filter(Boolean).join(' ') || 'direct'}
                      {e.grantedTo ? ` · ${e.grantedTo}` : ''}
                    </Text>
                    {e.linkWebUrl && (
                      <Anchor href={e.linkWebUrl} size="xs" target="_blank" rel="noopener noreferrer" style={{ wordBreak: 'break-all' }}>
                        {e.linkWebUrl}
                      </Anchor>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Badge color={resultColor(e.result)} variant="light">
                      {e.result.replace(/_/g, ' ')}
                    </Badge>
                    {e.message && (
                      <Text size="xs" c="dimmed">
                        {e.message}
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <ListFooter shown={list.rows.length} total={list.total} hasMore={list.hasMore} loading={list.loading} onMore={list.loadMore} />
    </Stack>
  );
}
