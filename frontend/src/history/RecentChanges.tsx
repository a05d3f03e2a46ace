import { Anchor, Paper, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useQuery, useSubscription } from 'urql';
import { SharingChangedSubscription, SharingEventsQuery } from '../graphql/documents';
import type { SharingEventFieldsFragment } from '../gql/graphql';
import { ErrorState, Loading } from '../components/States';
import { eventByline, eventText, eventTone } from '../lib/history';

const FEED_SIZE = 15;
const toneColor = { exposing: 'red', fixing: 'green', neutral: undefined } as const;

// The Overview's live feed: the integration's latest sharing changes, with each new one
// pushed by the sharingChanged subscription as the store records it.
export function RecentChanges({ integrationId }: { integrationId: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: SharingEventsQuery,
    variables: { integrationId, first: FEED_SIZE },
    requestPolicy: 'cache-and-network',
  });
  const [live] = useSubscription(
    { query: SharingChangedSubscription, variables: { integrationId } },
    (prev: SharingEventFieldsFragment[] = [], next) => [next.sharingChanged, ...prev].slice(0, FEED_SIZE),
  );
  const seen = new Set<string>();
  const events = [...(live.data ?? []), ...(data?.sharingEvents.edges.map((e) => e.node) ?? [])].filter((e) => {
    if (seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
  return (
    <Paper withBorder p="md" radius="md" data-testid="sharing-feed">
      <Title order={3} size="h5" mb="sm">
        Recent sharing changes
      </Title>
      {error && <ErrorState error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />}
      {fetching && !data && <Loading label="Loading changes…" />}
      {data && events.length === 0 && <Text c="dimmed">No change of sharing has been recorded yet.</Text>}
      <Stack gap="xs">
        {events.slice(0, FEED_SIZE).map((e) => (
          <div key={e.id} data-testid="feed-event" data-kind={e.kind} data-item={e.itemGraphId}>
            <Text size="sm" c={toneColor[eventTone(e)]}>
              {e.item ? (
                <Anchor component={Link} to={`/files?item=${encodeURIComponent(e.item.id)}`} fw={600}>
                  {e.itemName}
                </Anchor>
              ) : (
                <Text span fw={600}>
                  {e.itemName}
                </Text>
              )}
              : {eventText(e)}
            </Text>
            <Text size="xs" c="dimmed">
              {e.itemPath} · {eventByline(e)}
            </Text>
          </div>
        ))}
      </Stack>
    </Paper>
  );
}
