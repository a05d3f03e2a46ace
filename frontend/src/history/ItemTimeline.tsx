import { useEffect, useState } from 'react';
import { Alert, Button, Stack, Text, Timeline, Title } from '@mantine/core';
import { useQuery, useSubscription } from 'urql';
import { ItemHistoryQuery, SharingChangedSubscription } from '../graphql/documents';
import { ErrorState, Loading } from '../components/States';
import { eventByline, eventText, eventTone, exposureText } from '../lib/history';

const toneColor = { exposing: 'red', fixing: 'green', neutral: 'gray' } as const;

// The item's sharing history in its details drawer, newest first, kept current by the
// integration's sharingChanged subscription: a change to this item refetches it.
export function ItemTimeline({ itemId, itemGraphId, integrationId }: { itemId: string; itemGraphId: string; integrationId: string }) {
  const [first, setFirst] = useState(20);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ItemHistoryQuery,
    variables: { id: itemId, first },
    requestPolicy: 'network-only',
  });
  const [live] = useSubscription({ query: SharingChangedSubscription, variables: { integrationId } });
  const change = live.data?.sharingChanged;
  useEffect(() => {
    if (change && change.itemGraphId === itemGraphId) refetch({ requestPolicy: 'network-only' });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [change?.id]);

  const node = data?.node && 'history' in data.node ? data.node : null;
  return (
    <Stack gap="xs" data-testid="item-history">
      <Title order={3} size="h5">
        Sharing history
      </Title>
      {error && <ErrorState error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />}
      {fetching && !node && <Loading label="Loading history…" />}
      {node && (
        <>
          <Alert color={node.exposure.exposedNow ? 'red' : node.exposure.fixedAt ? 'green' : 'gray'} data-testid="item-exposure">
            {exposureText(node.exposure)}
          </Alert>
          {node.history.edges.length === 0 ? (
            <Text c="dimmed" size="sm">
              No change of this item's sharing has been recorded.
            </Text>
          ) : (
            <Timeline bulletSize={14} lineWidth={2}>
              {node.history.edges.map(({ node: e }) => (
                <Timeline.Item key={e.id} color={toneColor[eventTone(e)]} data-testid="history-event" data-kind={e.kind}>
                  <Text size="sm">{eventText(e)}</Text>
                  <Text size="xs" c="dimmed">
                    {eventByline(e)}
                  </Text>
                </Timeline.Item>
              ))}
            </Timeline>
          )}
          {node.history.pageInfo.hasNextPage && (
            <Button variant="subtle" size="xs" onClick={() => setFirst(first + 20)}>
              Show older changes
            </Button>
          )}
        </>
      )}
    </Stack>
  );
}
