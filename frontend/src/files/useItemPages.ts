import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { DriveItemsCountQuery, DriveItemsQuery } from '../graphql/documents';
import { fetchFirstPage, pageKey, takeFirstPage } from './firstPage';
import type { DriveItemFilter, DriveItemOrder, DriveItemRowFragment } from '../gql/graphql';
import { errorText } from '../lib/errors';

// Later pages are larger than the first (see FIRST_PAGE) so scrolling needs fewer requests.
export const PAGE = 200;

export interface ItemPages {
  rows: DriveItemRowFragment[];
  // Items matching the filter; null while it is being counted (or could not be).
  total: number | null;
  countError: string | null;
  // The first page has arrived (with or without rows).
  loaded: boolean;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadMore: () => void;
  reload: () => void;
}

// Loads the table page by page with keyset cursors as the person scrolls; a
// new filter starts over. Requests of an outdated filter are dropped. The total
// is asked for once the first page is shown: on SQLite the server has one
// connection, so a count sent alongside would make the rows wait for it.
export function useItemPages(
  integrationId: string | null,
  filter: DriveItemFilter,
  order: DriveItemOrder,
): ItemPages {
  const client = useClient();
  const [rows, setRows] = useState<DriveItemRowFragment[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [countError, setCountError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const busy = useRef(false);
  const key = JSON.stringify([integrationId, filter, order, generation]);
  const keyRef = useRef(key);

  const count = useCallback(
    async () => {
      if (!integrationId) return;
      const myKey = keyRef.current;
      const res = await client
        .query(DriveItemsCountQuery, { integrationId, filter }, { requestPolicy: 'network-only' })
        .toPromise();
      if (keyRef.current !== myKey) return;
      if (res.error || !res.data) {
        setCountError(errorText(res.error) || 'The server sent no count');
        return;
      }
      setTotal(res.data.driveItems.totalCount);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, key],
  );

  const fetchPage = useCallback(
    async (after: string | null) => {
      if (!integrationId || busy.current) return;
      busy.current = true;
      setLoading(true);
      const myKey = keyRef.current;
      const res = after
        ? await client
            .query(DriveItemsQuery, { integrationId, filter, first: PAGE, after, orderBy: order }, { requestPolicy: 'network-only' })
            .toPromise()
        : await (takeFirstPage(pageKey(integrationId, filter, order)) ?? fetchFirstPage(client, integrationId, filter, order));
      if (keyRef.current !== myKey) return;
      busy.current = false;
      setLoading(false);
      if (res.error || !res.data) {
        setError(errorText(res.error) || 'The server sent no data');
        return;
      }
      const conn = res.data.driveItems;
      const nodes = conn.edges.map((e) => e.node);
      setError(null);
      setLoaded(true);
      setRows((prev) => (after ? [...prev, ...nodes] : nodes));
      setCursor(conn.pageInfo.endCursor ?? null);
      setHasMore(conn.pageInfo.hasNextPage);
      if (!after) {
        // A first page that is also the last one is its own count.
        if (conn.pageInfo.hasNextPage) void count();
        else setTotal(nodes.length);
      }
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, key, count],
  );

  useEffect(() => {
    keyRef.current = key;
    busy.current = false;
    setRows([]);
    setTotal(null);
    setCountError(null);
    setLoaded(false);
    setCursor(null);
    setHasMore(true);
    setError(null);
    void fetchPage(null);
  }, [key, fetchPage]);

  const loadMore = useCallback(() => {
    if (!hasMore || loading || error || !cursor) return;
    void fetchPage(cursor);
  }, [hasMore, loading, error, cursor, fetchPage]);

  return {
    rows,
    total,
    countError,
    loaded,
    hasMore,
    loading,
    error,
    loadMore,
    reload: () => setGeneration((g) => g + 1),
  };
}
