import { describe, expect, it } from 'vitest';
import { Client, fetchExchange } from 'urql';
import { fetchFirstPage, FIRST_PAGE, pageKey, prefetchFirstPage, takeFirstPage } from './firstPage';

// A real urql client whose HTTP transport answers every query with an empty
// page and records the variables it was sent.
function clientRecording(asked: Record<string, unknown>[]): Client {
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit) => {
    asked.push(JSON.parse(String(init?.body)).variables);
    const data = { driveItems: { __typename: 'DriveItemConnection', pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null }, edges: [] } };
    return new Response(JSON.stringify({ data }), { headers: { 'Content-Type': 'application/json' } });
  };
  return new Client({ url: 'http://test.invalid/graphql', exchanges: [fetchExchange], fetch, preferGetMethod: false });
}

const order = { field: 'MODIFIED_AT', direction: 'DESC' } as const;

describe('first page of Shared files', () => {
  it('asks for a screenful of rows', async () => {
    const asked: Record<string, unknown>[] = [];
    await fetchFirstPage(clientRecording(asked), 'i1', { sharedOnly: true }, order);
    expect(asked).toEqual([{ integrationId: 'i1', filter: { sharedOnly: true }, first: FIRST_PAGE, after: null, orderBy: order }]);
  });

  it('hands a page asked for early to the screen once, for the same view only', async () => {
    const asked: Record<string, unknown>[] = [];
    const client = clientRecording(asked);
    prefetchFirstPage(client, 'i1', { sharedOnly: true }, order);
    const early = takeFirstPage(pageKey('i1', { sharedOnly: true }, order));
    expect(early).not.toBeNull();
    expect((await early!).data?.driveItems.edges).toEqual([]);
    expect(takeFirstPage(pageKey('i1', { sharedOnly: true }, order))).toBeNull();

    prefetchFirstPage(client, 'i1', { sharedOnly: true }, order);
    expect(takeFirstPage(pageKey('i1', { sharedOnly: false }, order))).toBeNull();
    expect(takeFirstPage(pageKey('i1', { sharedOnly: true }, order))).toBeNull();
    await new Promise((r) => setTimeout(r, 0));
    expect(asked).toHaveLength(2);
  });
});
