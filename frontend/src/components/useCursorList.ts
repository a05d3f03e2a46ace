import { useCallback, useEffect, useRef, useState } from 'react';
import type { Page } from '../lib/paging';

// "Load more" over a Relay connection: keeps the rows read so far and the
// cursor; a new key (filter) starts over and drops late answers of the old one.
export function useCursorList<T>(key: string, fetchPage: (after: string | null) => Promise<Page<T>>) {
  const [rows, setRows] = useState<T[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [gen, setGen] = useState(0);
  const current = useRef('');
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  const load = useCallback(async (after: string | null, k: string) => {
    setLoading(true);
    try {
      const p = await fetchRef.current(after);
      if (current.current !== k) return;
      setRows((prev) => (after ? [...prev, ...p.nodes] : p.nodes));
      setTotal(p.totalCount ?? null);
      setCursor(p.endCursor ?? null);
      setHasMore(p.hasNextPage);
      setError(null);
    } catch (e) {
      if (current.current === k) setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      if (current.current === k) setLoading(false);
    }
  }, []);

  useEffect(() => {
    const k = `${key}#${gen}`;
    current.current = k;
    setRows([]);
    setTotal(null);
    setCursor(null);
    setHasMore(false);
    void load(null, k);
  }, [key, gen, load]);

  return {
    rows,
    total,
    hasMore,
    loading,
    error,
    loadMore: () => {
      if (cursor && !loading) void load(cursor, current.current);
    },
    reload: () => setGen((g) => g + 1),
  };
}
