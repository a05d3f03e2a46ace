import { lazy, Suspense } from 'react';
import { Anchor, Group, Paper, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { useSession } from '../auth/context';
import { useIntegration } from '../integration';
import { isAdmin } from '../lib/roles';
import { OverviewAdminQuery, OverviewCountsQuery } from '../graphql/documents';
import type { OverviewCountFieldsFragment } from '../gql/graphql';
import { AdminOnlyNote, Empty, ErrorState, Loading } from '../components/States';
import { ExternalSource } from '../components/ExternalSource';
import { StatCard } from '../components/StatCard';
import { formatDateTime, formatBytes, scopeLabel, SCOPE_ORDER } from '../lib/format';
import { formatSpan } from '../lib/history';
import { RecentChanges } from '../history/RecentChanges';

const ScopeDonut = lazy(() => import('../charts/OverviewCharts').then((m) => ({ default: m.ScopeDonut })));
const SharersBar = lazy(() => import('../charts/OverviewCharts').then((m) => ({ default: m.SharersBar })));
const ExposureTrend = lazy(() => import('../charts/OverviewCharts').then((m) => ({ default: m.ExposureTrend })));

export default function Overview() {
  const { roles } = useSession();
  const admin = isAdmin(roles);
  const integration = useIntegration();

  if (admin && integration.fetching && !integration.list.length) return <Loading />;
  if (admin && integration.error) return <ErrorState error={integration.error} onRetry={integration.refetch} />;
  if (!integration.id) {
    return (
      <Stack>
        <Title order={2}>Overview</Title>
        {admin ? (
          <Empty title="No OneDrive connected yet">
            <Anchor component={Link} to="/integrations">
              Connect a Microsoft 365 tenant
            </Anchor>{' '}
            to see what is shared.
          </Empty>
        ) : (
          <>
            <AdminOnlyNote />
            <Empty title="No integration chosen">
              Open the link an administrator shared with you (it names the integration).
            </Empty>
          </>
        )}
      </Stack>
    );
  }
  return admin ? <AdminOverview integrationId={integration.id} /> : <ViewerOverview integrationId={integration.id} />;
}

function ViewerOverview({ integrationId }: { integrationId: string }) {
  // A viewer's query must not ask for topSharers or drivesNearQuota: the API
  // answers FORBIDDEN for those fields.
  const [{ data, fetching, error }, refetch] = useQuery({ query: OverviewCountsQuery, variables: { integrationId } });
  return (
    <Stack>
      <Title order={2}>Overview</Title>
      <AdminOnlyNote />
      {error && <ErrorState error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />}
      {fetching && !data && <Loading />}
      {data && <Counts o={data.overview} admin={false} />}
    </Stack>
  );
}

function AdminOverview({ integrationId }: { integrationId: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: OverviewAdminQuery, variables: { integrationId } });

  return (
    <Stack>
      <Title order={2}>Overview</Title>
      {error && <ErrorState error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />}
      {fetching && !data && <Loading />}
      {data && (
        <>
          <Counts o={data.overview} admin />
          <ExternalSource facts={data.integration?.tenantFacts} />
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <Paper withBorder p="md" radius="md">
              <Title order={3} size="h5" mb="sm">
                Top sharers
              </Title>
              <Suspense fallback={<Loading label="Loading chart…" />}>
                <SharersBar
                  data={data.overview.topSharers.map((s) => ({ name: s.displayName, sharedItems: s.sharedItems }))}
                />
              </Suspense>
            </Paper>
            <RecentChanges integrationId={integrationId} />
          </SimpleGrid>
          <Paper withBorder p="md" radius="md">
            <Title order={3} size="h5" mb="sm">
              Drives near quota
            </Title>
            {data.overview.drivesNearQuota.length === 0 ? (
              <Text c="dimmed">No drive is near its quota.</Text>
            ) : (
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Owner</Table.Th>
                    <Table.Th>Used</Table.Th>
                    <Table.Th w="40%">Quota</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.overview.drivesNearQuota.map((d, i) => (
                    <Table.Tr key={d.drive?.id ?? i}>
                      <Table.Td>{d.ownerName}</Table.Td>
                      <Table.Td>
                        {d.drive ? `${formatBytes(d.drive.quota.used)} of ${formatBytes(d.drive.quota.total)}` : '—'}
                      </Table.Td>
                      <Table.Td>
                        <Progress
                          value={Math.round(d.usedFraction * 100)}
                          color={d.usedFraction >= 0.98 ? 'red' : d.usedFraction >= 0.9 ? 'orange' : 'yellow'}
                          aria-label={`${d.ownerName}: ${Math.round(d.usedFraction * 100)} % used (${d.state})`}
                        />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Paper>
        </>
      )}
    </Stack>
  );
}

function Counts({ o, admin }: { o: OverviewCountFieldsFragment; admin: boolean }) {
  const scope = (s: string) => o.byScope.find((b) => b.scope === s)?.items ?? 0;
  const to = (q: string) => (admin ? `/files?${q}` : undefined);
  return (
    <>
      <Text size="sm" c="dimmed">
        Last sync: {formatDateTime(o.lastSyncAt)}
      </Text>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 4 }}>
        <StatCard label="Shared items" value={o.sharedItems} hint={`of ${o.items.toLocaleString('en-GB')} items`} to={to('')} />
        <StatCard label="Anyone links" value={scope('ANONYMOUS')} color="red" hint="items anyone with the link can open" to={to('scope=ANONYMOUS')} />
        <StatCard label="Anonymous edit links" value={o.anonymousEditLinks} color="red" hint="anyone can change these" to={to('scope=ANONYMOUS&link=edit')} />
        <StatCard label="External shares" value={o.externalShares} color="orange" hint="guests and outside addresses" to={to('external=yes')} />
        <StatCard label="Links without expiry" value={o.linksWithoutExpiry} hint="never stop working" to={to('expiry=no')} />
        <StatCard label="Edit links" value={o.editLinks} to={to('link=edit')} />
        <StatCard
          label="Expired links"
          value={o.expiredLinks}
          hint={`on ${o.expiredItems.toLocaleString('en-GB')} items: no longer open anything, still listed`}
          to={to('expired=yes')}
        />
        <StatCard label="Users" value={o.users} hint={`${o.guests.toLocaleString('en-GB')} guests`} />
        <StatCard label="Drives" value={o.drives} />
      </SimpleGrid>
      <Paper withBorder p="md" radius="md">
        <Title order={3} size="h5" mb="sm">
          Shared items by scope
        </Title>
        <Group align="center" gap="xl" wrap="wrap">
          <Suspense fallback={<Loading label="Loading chart…" />}>
            <ScopeDonut data={o.byScope} />
          </Suspense>
          <Table w="auto" aria-label="Shared items by scope">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Scope</Table.Th>
                <Table.Th ta="right">Items</Table.Th>
                <Table.Th ta="right">Permissions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {SCOPE_ORDER.map((s) => {
                const b = o.byScope.find((x) => x.scope === s);
                return (
                  <Table.Tr key={s}>
                    <Table.Td>{scopeLabel(s)}</Table.Td>
                    <Table.Td ta="right">{(b?.items ?? 0).toLocaleString('en-GB')}</Table.Td>
                    <Table.Td ta="right">{(b?.permissions ?? 0).toLocaleString('en-GB')}</Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Group>
      </Paper>
      <Paper withBorder p="md" radius="md">
        <Group justify="space-between" align="baseline" mb="sm">
          <Title order={3} size="h5">
            Exposed items, last 30 days
          </Title>
          <Text size="sm" c="dimmed" data-testid="median-time-to-fix">
            {o.medianTimeToFix.medianSeconds == null
              ? 'No exposure beyond the organisation was fixed in the last 90 days.'
              : `Median time to fix: ${formatSpan(o.medianTimeToFix.medianSeconds)} (${o.medianTimeToFix.fixed.toLocaleString('en-GB')} fixed in 90 days)`}
          </Text>
        </Group>
        <Suspense fallback={<Loading label="Loading chart…" />}>
          <ExposureTrend data={o.exposureTrend} days={30} />
        </Suspense>
      </Paper>
    </>
  );
}
