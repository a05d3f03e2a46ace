import { useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useClient } from 'urql';
import { Button, Checkbox, Group, MultiSelect, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useIntegration } from '../integration';
import {
  LINK_TYPES,
  activeFilterCount,
  describeFilter,
  fileViewFromSearch,
  searchFromFileView,
  sharedFilesQuery,
  type FileView,
} from '../lib/filters';
import { formatCount, scopeLabel, SCOPE_ORDER } from '../lib/format';
import type { DriveItemOrder, DriveItemRowFragment, SharingScope } from '../gql/graphql';
import { useItemPages, type ItemPages } from '../files/useItemPages';
import { FileTable } from '../files/FileTable';
import { ItemDrawer } from '../files/ItemDrawer';
import { BulkStop } from '../files/BulkStop';
import { downloadText, exportCsv } from '../files/exportCsv';
import { Empty, ErrorState, Loading } from '../components/States';

const TRI = [
  { value: '', label: 'Any' },
  { value: 'yes', label: 'Yes' },
  { value: 'no', label: 'No' },
];

function tri(v: boolean | null | undefined): string {
  return v === true ? 'yes' : v === false ? 'no' : '';
}
function fromTri(v: string | null): boolean | undefined {
  return v === 'yes' ? true : v === 'no' ? false : undefined;
}

function countText(pages: ItemPages): string {
  if (pages.total !== null) return `${formatCount(pages.total)} ${pages.total === 1 ? 'item' : 'items'}`;
  return pages.countError ? 'Count unavailable' : 'Counting…';
}

export default function SharedFiles() {
  const integration = useIntegration();
  const client = useClient();
  const [params, setParams] = useSearchParams();
  const view = useMemo(() => fileViewFromSearch(params), [params]);
  const { filter, order } = useMemo(() => sharedFilesQuery(view), [view]);
  const [openId, setOpenId] = useState<string | null>(params.get('item'));
  const [bulkOpen, setBulkOpen] = useState(false);
  const [exporting, setExporting] = useState<AbortController | null>(null);
  const [exported, setExported] = useState<number | null>(null);

  // Search is typed into local state and written to the URL once typing pauses.
  const [search, setSearch] = useState(view.filter.search ?? '');
  const [debounced] = useDebouncedValue(search, 300);

  const update = useCallback(
    (next: FileView) => {
      const p = searchFromFileView(next);
      const keep = params.get('integration');
      if (keep) p.set('integration', keep);
      if (openId) p.set('item', openId);
      setParams(p, { replace: true });
    },
    [params, setParams, openId],
  );

  useEffect(() => {
    if ((view.filter.search ?? '') !== debounced.trim()) {
      update({ ...view, filter: { ...view.filter, search: debounced.trim() || undefined } });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  const setFilter = (patch: Partial<FileView['filter']>) => update({ ...view, filter: { ...view.filter, ...patch } });
  const pages = useItemPages(integration.id, filter, order);

  const open = useCallback(
    (item: DriveItemRowFragment) => {
      setOpenId(item.id);
      const p = new URLSearchParams(params);
      p.set('item', item.id);
      setParams(p, { replace: true });
    },
    [params, setParams],
  );
  const close = () => {
    setOpenId(null);
    const p = new URLSearchParams(params);
    p.delete('item');
    setParams(p, { replace: true });
  };

  const doExport = async () => {
    if (!integration.id) return;
    const ctl = new AbortController();
    setExporting(ctl);
    setExported(0);
    try {
      const { csv, rows } = await exportCsv(client, integration.id, filter, order, {
        signal: ctl.signal,
        onProgress: (n) => setExported(n),
      });
      downloadText(csv, `overshare-shared-files-${new Date().toISOString().slice(0, 10)}.csv`);
      notifications.show({ color: 'green', title: 'Export ready', message: `${formatCount(rows)} rows: ${describeFilter(filter)}.` });
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'AbortError')) {
        notifications.show({ color: 'red', title: 'Export failed', message: e instanceof Error ? e.message : String(e) });
      }
    } finally {
      setExporting(null);
      setExported(null);
    }
  };

  // The integration id is known from the address or the viewer query; the list
  // of integrations is not needed here, so the rows need not wait for it.
  if (!integration.id) {
    if (integration.fetching) return <Loading />;
    if (integration.error) return <ErrorState error={integration.error} onRetry={integration.refetch} />;
    return <Empty title="No OneDrive connected yet">Connect one on the Integrations screen.</Empty>;
  }

  const active = activeFilterCount(view.filter);

  return (
    <Stack gap="sm">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Shared files</Title>
          <Text size="sm" c="dimmed" aria-live="polite" data-testid="file-count">
            {countText(pages)} · {describeFilter(filter)}
          </Text>
        </div>
        <Group gap="xs">
          {exporting ? (
            <Button variant="default" onClick={() => exporting.abort()}>
              Cancel export ({formatCount(exported)} rows)
            </Button>
          ) : (
            <Button variant="default" onClick={() => void doExport()} disabled={!pages.rows.length}>
              Export CSV
            </Button>
          )}
          <Button color="red" variant="light" onClick={() => setBulkOpen(true)} disabled={!pages.rows.length}>
            Stop sharing for all…
          </Button>
        </Group>
      </Group>

      <Group gap="sm" align="flex-end" wrap="wrap" role="search" aria-label="Filter shared files">
        <TextInput
          label="Search names"
          placeholder="e.g. budget"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={180}
        />
        <MultiSelect
          label="Scope"
          placeholder={view.filter.sharedScope?.length ? undefined : 'Any'}
          data={SCOPE_ORDER.map((s) => ({ value: s, label: scopeLabel(s) }))}
          value={[...(view.filter.sharedScope ?? [])]}
          onChange={(v) => setFilter({ sharedScope: v as SharingScope[] })}
          w={230}
          clearable
        />
        <MultiSelect
          label="Link type"
          placeholder={view.filter.linkType?.length ? undefined : 'Any'}
          data={[...LINK_TYPES]}
          value={[...(view.filter.linkType ?? [])]}
          onChange={(v) => setFilter({ linkType: v })}
          w={170}
          clearable
        />
        <Select label="External" data={TRI} value={tri(view.filter.external)} onChange={(v) => setFilter({ external: fromTri(v) })} w={90} allowDeselect={false} />
        <Select label="Has expiry" data={TRI} value={tri(view.filter.hasExpiry)} onChange={(v) => setFilter({ hasExpiry: fromTri(v) })} w={100} allowDeselect={false} />
        <Select label="Password" title="Microsoft 365 reports passwords on OneDrive Personal only: on OneDrive for Business every link reads as without one" data={TRI} value={tri(view.filter.hasPassword)} onChange={(v) => setFilter({ hasPassword: fromTri(v) })} w={90} allowDeselect={false} />
        <TextInput
          type="date"
          label="Modified from"
          value={view.filter.modifiedAfter?.slice(0, 10) ?? ''}
          onChange={(e) => setFilter({ modifiedAfter: e.currentTarget.value ? `${e.currentTarget.value}T00:00:00.000Z` : undefined })}
          w={150}
        />
        <TextInput
          type="date"
          label="Modified until"
          value={params.get('modifiedBefore') ?? ''}
          onChange={(e) => {
            const p = new URLSearchParams(params);
            if (e.currentTarget.value) p.set('modifiedBefore', e.currentTarget.value);
            else p.delete('modifiedBefore');
            setParams(p, { replace: true });
          }}
          w={150}
        />
        <Checkbox
          label="Include items that are not shared"
          checked={view.filter.sharedOnly === false}
          onChange={(e) => setFilter({ sharedOnly: e.currentTarget.checked ? false : undefined })}
          mb={8}
        />
        <Checkbox
          label="Expired links (to clean up)"
          title="Links whose expiry has passed: they open nothing, but Microsoft 365 lists them until they are removed. Every other filter counts live sharing only."
          checked={view.filter.expired === true}
          onChange={(e) => setFilter({ expired: e.currentTarget.checked ? true : undefined })}
          mb={8}
        />
        {active > 0 && (
          <Button
            variant="subtle"
            onClick={() => {
              setSearch('');
              update({ filter: {}, order: view.order });
            }}
          >
            Clear filters ({active})
          </Button>
        )}
      </Group>

      {pages.error && <ErrorState error={new Error(pages.error)} onRetry={pages.reload} />}
      {!pages.error && pages.loaded && !pages.rows.length && (
        <Empty title="Nothing matches">
          {active ? 'No shared item matches these filters. Clear a filter to see more.' : 'Nothing is shared in this tenant.'}
        </Empty>
      )}
      {!pages.error && !pages.loaded && <Loading label="Loading shared files…" />}
      {!pages.error && !!pages.rows.length && (
        <FileTable
          rows={pages.rows}
          total={pages.total}
          hasMore={pages.hasMore}
          loading={pages.loading}
          loadMore={pages.loadMore}
          order={order}
          onSort={(o: DriveItemOrder) => update({ ...view, order: o })}
          onOpen={open}
          selectedId={openId}
        />
      )}
      <ItemDrawer itemId={openId} onClose={close} onChanged={pages.reload} />
      <BulkStop
        opened={bulkOpen}
        integrationId={integration.id}
        filter={filter}
        filterWords={describeFilter(filter)}
        onClose={() => setBulkOpen(false)}
        onDone={pages.reload}
      />
    </Stack>
  );
}
