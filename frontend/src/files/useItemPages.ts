import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { DriveItemsQuery } from '../graphql/documents';
import type { DriveItemFilter, DriveItemOrder, DriveItemRowFragment } from '../gql/graphql';
import { errorText } from '../lib/errors';

const PAGE = 200;

export interface ItemPages {
  rows: DriveItemRowFragment[];
  total: number | null;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadMore: () => void;
  reload: () => void;
}

// Loads the table page by page with keyset cursors as the person scrolls; a
// new filter starts over. Requests of an outdated filter are dropped.
export function useItemPages(
  integrationId: string | null,
  filter: DriveItemFilter,
  order: DriveItemOrder,
): ItemPages {
  const client = useClient();
  const [rows, setRows] = useState<DriveItemRowFragment[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const busy = useRef(false);
  const key = JSON.stringify([integrationId, filter, order]);
  const keyRef = useRef(key);

  const fetchPage = useCallback(
    async (after: string | null) => {
      if (!integrationId || busy.current) return;
      busy.current = true;
      setLoading(true);
      const myKey = keyRef.current;
      const res = await client
        .query(
          DriveItemsQuery,
          { integrationId, filter, first: PAGE, after, orderBy: order },
          { requestPolicy: 'network-only' },
        )
        .toPromise();
      if (keyRef.current !== myKey) return;
      busy.current = false;
      setLoading(false);
      if (res.error || !res.data) {
        setError(errorText(res.error) || 'The server sent no data');
        return;
      }
      const conn = res.data.driveItems;
      setError(null);
      setTotal(conn.totalCount);
      setRows((prev) => (after ? [...prev, ...conn.edges.map((e) => e.node)] : conn.edges.map((e) => e.node)));
      setCursor(conn.pageInfo.endCursor ?? null);
      setHasMore(conn.pageInfo.hasNextPage);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, key],
  );

  useEffect(() => {
    keyRef.current = key;
    busy.current = false;
    setRows([]);
    setTotal(null);
    setCursor(null);
    setHasMore(true);
    setError(null);
    void fetchPage(null);
  }, [key, generation, fetchPage]);

  const loadMore = useCallback(() => {
    if (!hasMore || loading || error || !cursor) return;
    void fetchPage(cursor);
  }, [hasMore, loading, error, cursor, fetchPage]);

  return {
    rows,
    total,
    hasMore,
    loading,
    error,
    loadMore,
    reload: () => setGeneration((g) => g + 1),
  };
}
