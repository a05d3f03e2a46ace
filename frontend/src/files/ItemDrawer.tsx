import { useState } from 'react';
import { Alert, Anchor, Badge, Button, Drawer, Group, List, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery } from 'urql';
import { DriveItemNodeQuery, SetLinkExpirationMutation, StopSharingMutation } from '../graphql/documents';
import type { PermissionFieldsFragment } from '../gql/graphql';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ErrorState, Loading } from '../components/States';
import { LinkTypeBadge, ScopeBadge } from '../components/Badges';
import {
  describePermission,
  folderName,
  inheritedNote,
  splitRemovable,
  stopSharingInput,
  stopSharingLines,
  stopSharingTitle,
} from '../lib/confirm';
import { dayEndISO } from '../lib/filters';
import { errorText } from '../lib/errors';
import { formatBytes, formatDate, formatDateTime, isPast } from '../lib/format';
import { useIntegration } from '../integration';
import { ItemTimeline } from '../history/ItemTimeline';

type Perm = PermissionFieldsFragment;

export function ItemDrawer({
  itemId,
  onClose,
  onChanged,
}: {
  itemId: string | null;
  onClose: () => void;
  onChanged: () => void;
}) {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: DriveItemNodeQuery,
    variables: { id: itemId ?? '' },
    pause: !itemId,
    requestPolicy: 'network-only',
  });
  const integration = useIntegration();
  const [, stopSharing] = useMutation(StopSharingMutation);
  const [, setExpiry] = useMutation(SetLinkExpirationMutation);
  // What the confirmation is for: the chosen permissions, or (all) every sharing of the item.
  const [confirm, setConfirm] = useState<{ perms: Perm[]; all: boolean } | null>(null);
  const [expiryFor, setExpiryFor] = useState<Perm | null>(null);
  const [expiryDay, setExpiryDay] = useState('');
  // What the last stop sharing found when it read the item's permissions again.
  const [result, setResult] = useState<{ itemId: string; ok: boolean; lines: string[] } | null>(null);

  const item = data?.node && 'permissions' in data.node ? data.node : null;
  const { removable } = splitRemovable(item?.permissions ?? []);

  const doStop = async (perms: Perm[], all: boolean): Promise<string | null> => {
    if (!item) return 'The item is not loaded';
    const res = await stopSharing({ input: stopSharingInput(item.id, perms, all) });
    if (res.error) return errorText(res.error);
    const r = res.data!.stopSharing;
    refetch({ requestPolicy: 'network-only' });
    onChanged();
    setResult({ itemId: item.id, ok: !r.failed.length, lines: [...r.removed.map((x) => x.message), ...r.failed.map((f) => f.message)] });
    if (r.failed.length) {
      return `${r.removed.length} removed, ${r.failed.length} failed: ${r.failed.map((f) => f.message).join('; ')}`;
    }
    notifications.show({
      color: 'green',
      title: 'Sharing stopped',
      message: `${r.removed.length} ${r.removed.length === 1 ? 'permission' : 'permissions'} removed from “${item.name}”.`,
    });
    return null;
  };

  const doExpiry = async (): Promise<string | null> => {
    if (!expiryFor) return null;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(expiryDay)) return 'Pick a date.';
    const res = await setExpiry({ permissionId: expiryFor.id, expiresAt: dayEndISO(expiryDay) });
    if (res.error) return errorText(res.error);
    const r = res.data!.setLinkExpiration;
    // A tenant's maximum for Anyone links shortens the date without refusing it: say so.
    notifications.show({
      color: r.limited ? 'yellow' : 'green',
      title: r.limited ? 'Expiry limited by Microsoft 365' : 'Expiry set',
      message: r.message,
      autoClose: r.limited ? 15_000 : undefined,
    });
    refetch({ requestPolicy: 'network-only' });
    onChanged();
    return null;
  };

  return (
    <Drawer
      opened={!!itemId}
      onClose={onClose}
      position="right"
      size="lg"
      // The drawer never scrolls sideways: long names, URLs and e-mail addresses wrap, buttons move to a new line.
      classNames={{ content: 'item-drawer', header: 'item-drawer-header', title: 'item-drawer-title', body: 'item-drawer-body' }}
      title={<Title order={2} size="h4">{item?.name ?? 'Item'}</Title>}
    >
      {fetching && !item && <Loading />}
      {error && <ErrorState error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />}
      {!fetching && !error && data && !item && <Text>This item no longer exists.</Text>}
      {item && (
        <Stack>
          <Stack gap={2}>
            <Text size="sm" c="dimmed">
              {item.path}
            </Text>
            <Group gap="xs">
              <ScopeBadge scope={item.sharedScope} />
              <Text size="sm">Owner: {item.owner?.displayName ?? '—'}</Text>
              <Text size="sm">· {item.folder ? 'Folder' : formatBytes(item.size)}</Text>
              <Text size="sm">· modified {formatDate(item.modifiedAt)}</Text>
            </Group>
            {item.webUrl && (
              <Anchor href={item.webUrl} target="_blank" rel="noopener noreferrer" size="sm">
                Open in OneDrive
              </Anchor>
            )}
          </Stack>
          <Group justify="space-between" gap="xs">
            <Title order={3} size="h5">
              Permissions ({item.permissions.length})
            </Title>
            <Button className="wrap-button" color="red" variant="light" disabled={!removable.length} onClick={() => setConfirm({ perms: removable, all: true })}>
              Stop all sharing on this item
            </Button>
          </Group>
          {result && result.itemId === item.id && (
            <Alert color={result.ok ? 'green' : 'orange'} data-testid="stop-result" withCloseButton onClose={() => setResult(null)}>
              <List size="sm" spacing={2}>
                {result.lines.map((l, i) => (
                  <List.Item key={i}>{l}</List.Item>
                ))}
              </List>
            </Alert>
          )}
          {inheritedNote(item.permissions) && (
            <Alert color="gray" role="note">
              {inheritedNote(item.permissions)}
            </Alert>
          )}
          {item.permissions.length === 0 && <Text c="dimmed">This item is not shared.</Text>}
          {item.permissions.map((p) => (
            <Paper
              key={p.id}
              withBorder
              p="sm"
              radius="sm"
              data-testid="permission"
              data-graph-id={p.graphId}
              data-scope={p.link?.scope ?? ''}
              data-link-type={p.link?.type ?? ''}
              data-inherited={p.inherited ? 'yes' : 'no'}
              data-sharing={p.sharing ? 'yes' : 'no'}
            >
              <Stack gap={6}>
                <Group gap="xs">
                  {p.link ? <LinkTypeBadge type={p.link.type} /> : <Badge variant="outline" color="gray">direct</Badge>}
                  {p.link?.scope && <ScopeBadge scope={p.link.scope} />}
                  <Text size="sm">{p.roles.join(', ')}</Text>
                  {p.inherited && <Badge color="gray">inherited</Badge>}
                  {!p.inherited && !p.sharing && <Badge color="gray" variant="outline">not sharing</Badge>}
                  {p.link && (p.link.expired || isPast(p.link.expiresAt ?? p.expiresAt)) && (
                    <Badge color="gray" variant="light">
                      expired
                    </Badge>
                  )}
                  {p.link?.hasPassword && <Badge color="teal" variant="light">password</Badge>}
                  {p.link?.preventsDownload && <Badge color="teal" variant="light">no download</Badge>}
                </Group>
                <Text size="sm">{describePermission(p)}</Text>
                {p.application && (
                  <Text size="sm" data-testid="application">
                    Application: {p.application.displayName}
                  </Text>
                )}
                {p.link?.webUrl && (
                  <Text size="xs" c="dimmed" className="break-anywhere">
                    {p.link.webUrl}
                  </Text>
                )}
                <Text size="xs" c="dimmed">
                  {expiryText(p.link?.expiresAt ?? p.expiresAt)}
                </Text>
                {p.link && p.link.hasPassword == null && (
                  <Text size="xs" c="dimmed" title="Microsoft 365 reports link passwords on OneDrive Personal only">
                    Password: not reported
                  </Text>
                )}
                {!!p.grantedToIdentities.length && (
                  <List size="xs">
                    {p.grantedToIdentities.map((g, i) => (
                      <List.Item key={i}>
                        {g.displayName ?? g.email}
                        {g.email && g.displayName ? ` <${g.email}>` : ''}
                        {g.external ? ' — external' : ''}
                      </List.Item>
                    ))}
                  </List>
                )}
                {p.inherited ? (
                  <Text size="xs" c="dimmed">
                    Inherited from {folderName(p.inheritedFrom)}: change it there.
                  </Text>
                ) : !p.sharing ? null : (
                  <Group gap="xs">
                    <Button className="wrap-button" size="xs" color="red" variant="outline" onClick={() => setConfirm({ perms: [p], all: false })}>
                      Stop sharing
                    </Button>
                    {p.link?.scope === 'ANONYMOUS' && (
                      <Button
                        className="wrap-button"
                        size="xs"
                        variant="default"
                        onClick={() => {
                          setExpiryDay('');
                          setExpiryFor(p);
                        }}
                      >
                        Set expiry
                      </Button>
                    )}
                  </Group>
                )}
              </Stack>
            </Paper>
          ))}
          {integration.id && <ItemTimeline itemId={item.id} itemGraphId={item.graphId} integrationId={integration.id} />}
        </Stack>
      )}
      {item && confirm && (
        <ConfirmDialog
          opened
          title={stopSharingTitle(item.name, confirm.perms.length)}
          confirmLabel={confirm.perms.length === 1 ? 'Stop sharing' : `Stop ${confirm.perms.length} shares`}
          onConfirm={() => doStop(confirm.perms, confirm.all)}
          onClose={() => setConfirm(null)}
        >
          <Text size="sm">This removes the sharing in Microsoft 365 right away. What will stop working:</Text>
          <List size="sm" spacing={4}>
            {stopSharingLines(item.name, confirm.perms).map((l, i) => (
              <List.Item key={i}>{l}</List.Item>
            ))}
          </List>
          <Text size="xs" c="dimmed">
            Links cannot be restored: sharing again creates a new link with a new address.
          </Text>
        </ConfirmDialog>
      )}
      {expiryFor && (
        <ConfirmDialog
          opened
          danger={false}
          title="Set an expiry date on this anonymous link"
          confirmLabel="Set expiry"
          onConfirm={doExpiry}
          onClose={() => setExpiryFor(null)}
        >
          <Text size="sm">The link keeps working until the end of the chosen day (UTC), then stops for everyone.</Text>
          <TextInput
            type="date"
            label="Expires on"
            value={expiryDay}
            onChange={(e) => setExpiryDay(e.currentTarget.value)}
            min={new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}
            required
            data-autofocus
          />
        </ConfirmDialog>
      )}
    </Drawer>
  );
}

// An expired link is still listed by Microsoft 365 but opens nothing: say so rather than show a
// date that reads like a future one.
function expiryText(expiresAt: string | null | undefined): string {
  if (!expiresAt) return 'Expires: never';
  return `${isPast(expiresAt) ? 'Expired' : 'Expires'}: ${formatDateTime(expiresAt)}`;
}
