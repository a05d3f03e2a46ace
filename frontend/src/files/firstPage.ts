import type { Client, OperationResult } from 'urql';
import { DriveItemsQuery } from '../graphql/documents';
import { chooseIntegration, storedIntegration } from '../integration';
import { fileViewFromSearch, sharedFilesQuery } from '../lib/filters';
import { isAdmin } from '../lib/roles';
import type {
  Role,
  DriveItemFilter,
  DriveItemOrder,
  DriveItemsQuery as DriveItemsResult,
  DriveItemsQueryVariables,
} from '../gql/graphql';

// The first page only has to fill the screen (a row is 44 px), so it is small
// and arrives sooner; later pages are larger so scrolling needs fewer requests.
export const FIRST_PAGE = 50;

type PageResult = OperationResult<DriveItemsResult, DriveItemsQueryVariables>;

export function pageKey(integrationId: string, filter: DriveItemFilter, order: DriveItemOrder): string {
  return JSON.stringify([integrationId, filter, order]);
}

export function fetchFirstPage(
  client: Client,
  integrationId: string,
  filter: DriveItemFilter,
  order: DriveItemOrder,
): Promise<PageResult> {
  return client
    .query(DriveItemsQuery, { integrationId, filter, first: FIRST_PAGE, after: null, orderBy: order }, { requestPolicy: 'network-only' })
    .toPromise();
}

// A first page asked for while the Shared files screen's code was still
// loading (a fresh page load on /files): the screen takes it instead of asking
// again, once, and only while it is fresh.
const FRESH_MS = 10_000;
let early: { key: string; at: number; result: Promise<PageResult> } | null = null;

export function prefetchFirstPage(client: Client, integrationId: string, filter: DriveItemFilter, order: DriveItemOrder): void {
  early = { key: pageKey(integrationId, filter, order), at: Date.now(), result: fetchFirstPage(client, integrationId, filter, order) };
}

export function takeFirstPage(key: string): Promise<PageResult> | null {
  const e = early;
  early = null;
  return e && e.key === key && Date.now() - e.at < FRESH_MS ? e.result : null;
}

// Once per page load, as soon as the viewer query answers: a page load that
// opens Shared files asks for its first rows at once, before the app renders
// (rendering the screen takes a while, and urql sends a request only after the
// task that asked for it, so asking from a render would wait for all of it).
let started = false;

export function prefetchForAddress(
  client: Client,
  viewer: { roles: readonly Role[]; integrationIds: readonly string[] },
  where: { pathname: string; search: string } = window.location,
): void {
  if (started) return;
  started = true;
  if (where.pathname !== '/files' || !isAdmin(viewer.roles)) return;
  const params = new URLSearchParams(where.search);
  const id = chooseIntegration(true, params.get('integration') ?? storedIntegration(), null, viewer.integrationIds);
  if (!id) return;
  const { filter, order } = sharedFilesQuery(fileViewFromSearch(params));
  prefetchFirstPage(client, id, filter, order);
}
