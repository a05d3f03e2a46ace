import { useEffect, useMemo, useRef } from 'react';
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Anchor, Box, Group, Loader, Text, Tooltip, UnstyledButton } from '@mantine/core';
import type { DriveItemOrder, DriveItemOrderField, DriveItemRowFragment } from '../gql/graphql';
import { LinkTypeBadge, ScopeBadge } from '../components/Badges';
import { externalRecipients, linkExpiry, linkTypes, passwordState } from '../lib/csv';
import { formatDate } from '../lib/format';

const ROW_HEIGHT = 44;

interface Col {
  id: string;
  header: string;
  width: string;
  sort?: DriveItemOrderField;
}

const COLS: Col[] = [
  { id: 'name', header: 'Name', width: 'minmax(180px, 2fr)', sort: 'NAME' },
  { id: 'path', header: 'Path', width: 'minmax(140px, 2fr)' },
  { id: 'owner', header: 'Owner', width: 'minmax(120px, 1.2fr)' },
  { id: 'scope', header: 'Scope', width: '150px' },
  { id: 'type', header: 'Link type', width: '120px' },
  { id: 'expiry', header: 'Expires', width: '110px' },
  { id: 'password', header: 'Password', width: '84px' },
  { id: 'external', header: 'External recipients', width: 'minmax(140px, 1.2fr)' },
  { id: 'modified', header: 'Modified', width: '110px', sort: 'MODIFIED_AT' },
  { id: 'open', header: 'Link', width: '60px' },
];
const TEMPLATE = COLS.map((c) => c.width).join(' ');

export function FileTable({
  rows,
  total,
  hasMore,
  loading,
  loadMore,
  order,
  onSort,
  onOpen,
  selectedId,
}: {
  rows: DriveItemRowFragment[];
  total: number | null;
  hasMore: boolean;
  loading: boolean;
  loadMore: () => void;
  order: DriveItemOrder;
  onSort: (o: DriveItemOrder) => void;
  onOpen: (item: DriveItemRowFragment) => void;
  selectedId: string | null;
}) {
  const columns = useMemo<ColumnDef<DriveItemRowFragment>[]>(
    () =>
      COLS.map((c) => ({
        id: c.id,
        header: c.header,
        cell: ({ row }) => renderCell(c.id, row.original, onOpen),
      })),
    [onOpen],
  );
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), manualSorting: true });
  const tableRows = table.getRowModel().rows;

  const scrollRef = useRef<HTMLDivElement>(null);
  const count = tableRows.length + (hasMore ? 1 : 0);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];

  // Ask for the next page when the loader row (or a row near it) scrolls into view.
  useEffect(() => {
    if (last && last.index >= tableRows.length - 20 && hasMore && !loading) loadMore();
  }, [last, tableRows.length, hasMore, loading, loadMore]);

  return (
    <Box
      ref={scrollRef}
      style={{
        height: 'calc(100vh - 300px)',
        minHeight: 320,
        overflow: 'auto',
        border: '1px solid var(--mantine-color-gray-3)',
        borderRadius: 4,
      }}
      role="table"
      aria-label="Shared files"
      aria-rowcount={total ?? undefined}
      data-testid="file-table"
    >
      <div style={{ minWidth: 1180 }}>
        <div
          role="row"
          style={{
            display: 'grid',
            gridTemplateColumns: TEMPLATE,
            position: 'sticky',
            top: 0,
            zIndex: 1,
            background: 'var(--mantine-color-gray-0)',
            borderBottom: '1px solid var(--mantine-color-gray-3)',
            height: 36,
          }}
        >
          {COLS.map((c) => (
            <div key={c.id} role="columnheader" className="vt-cell" aria-sort={ariaSort(c, order)}>
              {c.sort ? (
                <UnstyledButton
                  fw={600}
                  fz="sm"
                  onClick={() =>
                    onSort({
                      field: c.sort!,
                      direction: order.field === c.sort && order.direction === 'ASC' ? 'DESC' : 'ASC',
                    })
                  }
                >
                  {c.header} {order.field === c.sort ? (order.direction === 'ASC' ? '▲' : '▼') : ''}
                </UnstyledButton>
              ) : (
                <Text fw={600} fz="sm">
                  {c.header}
                </Text>
              )}
            </div>
          ))}
        </div>
        <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((v) => {
            const row = tableRows[v.index];
            if (!row) {
              return (
                <div
                  key="loader"
                  role="row"
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                >
                  <Group gap="xs" p="sm" role="cell">
                    <Loader size="xs" aria-hidden />
                    <Text size="sm" c="dimmed">
                      Loading more…
                    </Text>
                  </Group>
                </div>
              );
            }
            return (
              <div
                key={row.original.id}
                role="row"
                aria-rowindex={v.index + 1}
                aria-selected={row.original.id === selectedId}
                className="vt-row"
                data-testid="file-row"
                data-item-id={row.original.id}
                style={{
                  position: 'absolute',
                  top: 0,
                  left: 0,
                  right: 0,
                  height: ROW_HEIGHT,
                  transform: `translateY(${v.start}px)`,
                  display: 'grid',
                  gridTemplateColumns: TEMPLATE,
                  borderBottom: '1px solid var(--mantine-color-gray-2)',
                }}
              >
                {row.getVisibleCells().map((cell) => (
                  <div key={cell.id} role="cell" className="vt-cell">
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </Box>
  );
}

function ariaSort(c: Col, order: DriveItemOrder): 'ascending' | 'descending' | 'none' | undefined {
  if (!c.sort) return undefined;
  if (order.field !== c.sort) return 'none';
  return order.direction === 'ASC' ? 'ascending' : 'descending';
}

function renderCell(id: string, item: DriveItemRowFragment, onOpen: (i: DriveItemRowFragment) => void) {
  switch (id) {
    case 'name':
      return (
        <UnstyledButton
          onClick={() => onOpen(item)}
          fz="sm"
          fw={500}
          c="indigo.8"
          style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', maxWidth: '100%' }}
          title={`Show sharing of ${item.name}`}
          data-testid="file-name"
        >
          {item.folder && <FolderIcon />}
          {item.name}
        </UnstyledButton>
      );
    case 'path':
      return (
        <Text size="sm" c="dimmed" truncate title={item.path}>
          {item.path}
        </Text>
      );
    case 'owner':
      return (
        <Text size="sm" truncate title={item.owner?.userPrincipalName}>
          {item.owner?.displayName ?? '—'}
        </Text>
      );
    case 'scope':
      return <ScopeBadge scope={item.sharedScope} />;
    case 'type':
      return (
        <Group gap={4} wrap="nowrap">
          {linkTypes(item).map((t) => (
            <LinkTypeBadge key={t} type={t} />
          ))}
        </Group>
      );
    case 'expiry': {
      const e = linkExpiry(item);
      switch (e.kind) {
        case 'none':
          return <Text size="sm">—</Text>;
        case 'never':
          return (
            <Text size="sm" c="orange.8">
              Never
            </Text>
          );
        case 'expired':
          return (
            <Text size="sm" c="dimmed" title="Every link of this item has expired: none opens anything now">
              Expired {formatDate(e.date)}
            </Text>
          );
        case 'until':
          return <Text size="sm">{formatDate(e.date)}</Text>;
      }
    }
    case 'password':
      switch (passwordState(item)) {
        case 'yes':
          return <Text size="sm">Yes</Text>;
        case 'not reported':
          return (
            <Text size="sm" c="dimmed" title="Microsoft 365 does not report link passwords on OneDrive for Business">
              Not reported
            </Text>
          );
        default:
          return <Text size="sm">No</Text>;
      }
    case 'external': {
      const ext = externalRecipients(item);
      if (!ext.length) return <Text size="sm" c="dimmed">—</Text>;
      return (
        <Tooltip label={ext.join(', ')} multiline maw={320}>
          <Text size="sm" c="orange.9" truncate>
            {ext.join(', ')}
          </Text>
        </Tooltip>
      );
    }
    case 'modified':
      return <Text size="sm">{formatDate(item.modifiedAt)}</Text>;
    case 'open':
      return item.webUrl ? (
        <Anchor href={item.webUrl} target="_blank" rel="noopener noreferrer" size="sm" aria-label={`Open ${item.name} in OneDrive`}>
          Open
        </Anchor>
      ) : null;
    default:
      return null;
  }
}

function FolderIcon() {
  return (
    <svg width="14" height="14" viewBox="0 0 24 24" role="img" aria-label="Folder" style={{ marginRight: 4, verticalAlign: -2 }}>
      <path fill="currentColor" d="M10 4l2 2h8a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h6z" />
    </svg>
  );
}
