// Walks a Relay connection with `after` cursors until it ends, the caller stops
// it, or `limit` rows have been read. The server caps `first`, so exports and
// bulk views always go through here rather than asking for everything at once.

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  endCursor: string | null | undefined;
  totalCount?: number;
}

export interface PageAllOptions {
  pageSize?: number;
  limit?: number;
  signal?: AbortSignal;
  onProgress?: (loaded: number, total: number | undefined) => void;
}

export async function pageAll<T>(
  fetchPage: (after: string | null, first: number) => Promise<Page<T>>,
  opts: PageAllOptions = {},
): Promise<T[]> {
  const pageSize = opts.pageSize ?? 500;
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const out: T[] = [];
  let after: string | null = null;
  const seen = new Set<string>();
  for (;;) {
    if (opts.signal?.aborted) throw new DOMException('Export cancelled', 'AbortError');
    const page: Page<T> = await fetchPage(after, Math.min(pageSize, limit - out.length));
    for (const n of page.nodes) {
      if (out.length >= limit) break;
      out.push(n);
    }
    opts.onProgress?.(out.length, page.totalCount);
    if (!page.hasNextPage || out.length >= limit) break;
    if (!page.endCursor) throw new Error('The server said there are more rows but sent no cursor');
    // A cursor that repeats would loop forever; stop loudly instead.
    if (seen.has(page.endCursor)) throw new Error(`The server repeated cursor ${page.endCursor}`);
    seen.add(page.endCursor);
    after = page.endCursor;
  }
  return out;
}
