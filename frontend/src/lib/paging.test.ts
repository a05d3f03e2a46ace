import { describe, expect, it } from 'vitest';
import { pageAll, type Page } from './paging';

// A real in-memory connection: keyset cursors over a sorted array, like the API.
function connection(total: number, cap = 500) {
  const rows = Array.from({ length: total }, (_, i) => ({ id: `n${String(i).padStart(6, '0')}` }));
  const calls: { after: string | null; first: number }[] = [];
  const fetchPage = async (after: string | null, first: number): Promise<Page<{ id: string }>> => {
    calls.push({ after, first });
    const n = Math.min(first, cap);
    const start = after ? rows.findIndex((r) => r.id > after) : 0;
    const slice = start < 0 ? [] : rows.slice(start, start + n);
    const last = slice[slice.length - 1];
    return {
      nodes: slice,
      hasNextPage: start >= 0 && start + n < rows.length,
      endCursor: last?.id ?? null,
      totalCount: rows.length,
    };
  };
  return { rows, calls, fetchPage };
}

describe('pageAll', () => {
  it('reads every row exactly once across pages', async () => {
    const c = connection(1234);
    const got = await pageAll(c.fetchPage, { pageSize: 500 });
    expect(got.map((r) => r.id)).toEqual(c.rows.map((r) => r.id));
    expect(c.calls.map((x) => x.after)).toEqual([null, 'n000499', 'n000999']);
  });

  it('handles an empty connection', async () => {
    const c = connection(0);
    expect(await pageAll(c.fetchPage)).toEqual([]);
    expect(c.calls).toHaveLength(1);
  });

  it('stops at the limit and asks only for what it needs', async () => {
    const c = connection(1000);
    const got = await pageAll(c.fetchPage, { pageSize: 300, limit: 450 });
    expect(got).toHaveLength(450);
    expect(c.calls.map((x) => x.first)).toEqual([300, 150]);
  });

  it('reports progress with the total', async () => {
    const c = connection(700);
    const seen: [number, number | undefined][] = [];
    await pageAll(c.fetchPage, { pageSize: 500, onProgress: (a, b) => seen.push([a, b]) });
    expect(seen).toEqual([
      [500, 700],
      [700, 700],
    ]);
  });

  it('fails loudly on a repeated cursor instead of looping', async () => {
    const fetchPage = async (): Promise<Page<number>> => ({ nodes: [1], hasNextPage: true, endCursor: 'same' });
    await expect(pageAll(fetchPage)).rejects.toThrow(/repeated cursor/);
  });

  it('stops when cancelled', async () => {
    const c = connection(2000);
    const ctl = new AbortController();
    const p = pageAll(c.fetchPage, {
      pageSize: 500,
      signal: ctl.signal,
      onProgress: (n) => {
        if (n >= 1000) ctl.abort();
      },
    });
    await expect(p).rejects.toThrow(/cancelled/);
    expect(c.calls).toHaveLength(2);
  });
});
