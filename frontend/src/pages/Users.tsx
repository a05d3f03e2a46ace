import { useState } from 'react';
import { Badge, Group, Progress, SegmentedControl, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useClient } from 'urql';
import { useIntegration } from '../integration';
import { UsersQuery } from '../graphql/documents';
import type { UserFilter, UsersQuery as Q } from '../gql/graphql';
import { useCursorList } from '../components/useCursorList';
import { ListFooter } from '../components/ListFooter';
import { Empty, ErrorState, Loading } from '../components/States';
import { errorText } from '../lib/errors';
import { formatBytes, fraction } from '../lib/format';
import { licenseName } from '../lib/licenses';

type UserRow = Q['users']['edges'][number]['node'];

const KINDS: Record<string, UserFilter> = {
  all: {},
  members: { guest: false },
  guests: { guest: true },
  disabled: { accountEnabled: false },
};

export default function Users() {
  const integration = useIntegration();
  const client = useClient();
  const [kind, setKind] = useState('all');
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 300);
  const filter: UserFilter = { ...KINDS[kind], ...(q ? { search: q } : {}) };
  const id = integration.id;
  const list = useCursorList<UserRow>(JSON.stringify([id, filter]), async (after) => {
    if (!id) return { nodes: [], hasNextPage: false, endCursor: null, totalCount: 0 };
    const res = await client.query(UsersQuery, { integrationId: id, filter, first: 100, after }, { requestPolicy: 'network-only' }).toPromise();
    if (res.error || !res.data) throw new Error(errorText(res.error) || 'No answer from the server');
    const c = res.data.users;
    return { nodes: c.edges.map((e) => e.node), hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor, totalCount: c.totalCount };
  });

  if (!id) return integration.fetching ? <Loading /> : <Empty title="No OneDrive connected yet" />;
  return (
    <Stack>
      <Title order={2}>Users</Title>
      <Group gap="sm" align="flex-end">
        <div>
          <VisuallyHidden id="user-kind-label">Show</VisuallyHidden>
          <SegmentedControl
            aria-labelledby="user-kind-label"
            value={kind}
            onChange={setKind}
            data={[
              { value: 'all', label: 'All' },
              { value: 'members', label: 'Members' },
              { value: 'guests', label: 'Guests' },
              { value: 'disabled', label: 'Disabled' },
            ]}
          />
        </div>
        <TextInput label="Search" placeholder="Name or address" value={search} onChange={(e) => setSearch(e.currentTarget.value)} w={240} />
      </Group>
      {list.error && <ErrorState error={list.error} onRetry={list.reload} />}
      {list.loading && !list.rows.length && <Loading />}
      {!list.loading && !list.error && list.rows.length === 0 && <Empty title="No users match" />}
      {list.rows.length > 0 && (
        <Table.ScrollContainer minWidth={760}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th miw={180}>Name</Table.Th>
                <Table.Th>Sign-in name</Table.Th>
                <Table.Th w={110}>Type</Table.Th>
                <Table.Th miw={140}>Licences</Table.Th>
                <Table.Th w={200}>Drive usage</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.rows.map((u) => {
                const q = u.drive?.quota;
                const f = q ? fraction(q.used, q.total) : 0;
                return (
                  <Table.Tr key={u.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {u.displayName}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {[u.jobTitle, u.department].filter(Boolean).join(' · ')}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" style={{ wordBreak: 'break-all' }}>
                        {u.userPrincipalName}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Badge style={{ flexShrink: 0 }} color={u.guest ? 'orange' : 'blue'} variant="light">
                          {u.guest ? 'Guest' : 'Member'}
                        </Badge>
                        {!u.accountEnabled && <Badge color="gray">Disabled</Badge>}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{u.licenses.length ? u.licenses.map(licenseName).join(', ') : 'None'}</Text>
                    </Table.Td>
                    <Table.Td>
                      {q ? (
                        <Stack gap={2}>
                          <Progress value={f * 100} color={f > 0.9 ? 'red' : 'indigo'} aria-label={`${u.displayName}: ${Math.round(f * 100)} % of drive used`} />
                          <Text size="xs" c="dimmed">
                            {formatBytes(q.used)} of {formatBytes(q.total)}
                          </Text>
                        </Stack>
                      ) : (
                        <Text size="sm" c="dimmed">
                          No OneDrive
                        </Text>
                      )}
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
