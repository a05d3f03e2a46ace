import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Code,
  FileButton,
  Group,
  List,
  Paper,
  PasswordInput,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery } from 'urql';
import { useIntegration, type IntegrationInfo } from '../integration';
import {
  DeleteIntegrationMutation,
  IntegrateMutation,
  IntegrationCountsQuery,
  PauseIntegrationMutation,
  ResumeIntegrationMutation,
  StartSyncMutation,
  UpdateIntegrationMutation,
} from '../graphql/documents';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ExternalSource } from '../components/ExternalSource';
import { Empty, ErrorState, Loading } from '../components/States';
import { deleteIntegrationText } from '../lib/confirm';
import { errorText } from '../lib/errors';
import { formatCount, formatDateTime } from '../lib/format';
import { validateConnect, type ConnectForm } from '../lib/validate';
import { certificateWarning, certificateWarningText } from '../lib/certificate';
import type { IntegrationCountsQuery as IntegrationCountsResult } from '../gql/graphql';

const PERMISSIONS = [
  {
    name: 'User.Read.All',
    why: 'lists the people in the tenant, their licences and whether they are guests or disabled, and finds each person’s OneDrive.',
  },
  {
    name: 'Files.ReadWrite.All',
    why: 'reads every OneDrive’s files and their sharing, and removes sharing links and grants when you stop sharing.',
  },
  {
    name: 'Sites.FullControl.All',
    why: 'changes sharing on OneDrive sites: needed to remove permissions and to set expiry dates on links in other people’s drives.',
  },
];

type Counts = NonNullable<IntegrationCountsResult['integrations'][number]['counts']>;
type Facts = IntegrationCountsResult['integrations'][number]['tenantFacts'];

export default function Integrations() {
  const integration = useIntegration();
  // Asked for here alone: counting a large tenant takes seconds (see documents.ts).
  const [{ data: countData }, refetchCounts] = useQuery({ query: IntegrationCountsQuery });
  const counts = new Map<string, Counts>((countData?.integrations ?? []).map((c) => [c.id, c.counts]));
  const facts = new Map<string, Facts>((countData?.integrations ?? []).map((c) => [c.id, c.tenantFacts]));
  const onChanged = () => refetchCounts({ requestPolicy: 'network-only' });
  return (
    <Stack>
      <Title order={2}>Integrations</Title>
      {integration.error && <ErrorState error={integration.error} onRetry={integration.refetch} />}
      {integration.fetching && !integration.list.length && <Loading />}
      {!integration.fetching && !integration.error && integration.list.length === 0 && (
        <Empty title="No OneDrive connected yet">Follow the steps below to connect your Microsoft 365 tenant.</Empty>
      )}
      {integration.list.map((i) => (
        <IntegrationCard key={i.id} i={i} counts={counts.get(i.id) ?? null} facts={facts.get(i.id)} onChanged={onChanged} />
      ))}
      <ConnectPanel />
    </Stack>
  );
}

function statusColor(s: string): string {
  return s === 'ACTIVE' ? 'green' : s === 'SYNCING' ? 'blue' : s === 'PAUSED' ? 'yellow' : 'red';
}

function IntegrationCard({ i, counts, facts, onChanged }: { i: IntegrationInfo; counts: Counts | null; facts: Facts | undefined; onChanged: () => void }) {
  const integration = useIntegration();
  const [, pause] = useMutation(PauseIntegrationMutation);
  const [, resume] = useMutation(ResumeIntegrationMutation);
  const [, del] = useMutation(DeleteIntegrationMutation);
  const [, startSync] = useMutation(StartSyncMutation);
  const [, update] = useMutation(UpdateIntegrationMutation);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [rotating, setRotating] = useState(false);
  const [kind, setKind] = useState<'secret' | 'certificate'>(i.credentialType === 'CERTIFICATE' ? 'certificate' : 'secret');
  const [certificate, setCertificate] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);

  const act = async (fn: () => Promise<{ error?: Parameters<typeof errorText>[0] }>, done: string) => {
    setError(null);
    const res = await fn();
    if (res.error) setError(errorText(res.error));
    else {
      notifications.show({ color: 'green', message: done });
      integration.refetch();
      onChanged();
    }
  };

  return (
    <Paper withBorder p="md" radius="md" data-testid="integration">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Group gap="sm">
            <Title order={3} size="h4">
              {i.name}
            </Title>
            <Badge color={statusColor(i.status)} variant="light">
              {i.status.toLowerCase()}
            </Badge>
          </Group>
          <Group gap="xs">
            <Button component={Link} to={`/sync?integration=${encodeURIComponent(i.id)}`} variant="default" size="xs">
              Watch sync
            </Button>
            {i.status === 'PAUSED' ? (
              <Button size="xs" variant="default" onClick={() => void act(() => resume({ id: i.id }), `${i.name} resumed.`)}>
                Resume
              </Button>
            ) : (
              <Button size="xs" variant="default" onClick={() => void act(() => pause({ id: i.id }), `${i.name} paused: no syncs until you resume it.`)}>
                Pause
              </Button>
            )}
            <Button size="xs" variant="default" onClick={() => setRotating(true)}>
              Rotate credential
            </Button>
            <Button size="xs" color="red" variant="light" onClick={() => setConfirmDelete(true)}>
              Delete
            </Button>
          </Group>
        </Group>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          <Text size="sm">
            Tenant <Code>{i.tenantId}</Code>
          </Text>
          <Text size="sm">
            Client <Code>{i.clientId}</Code> ·{' '}
            {i.credentialType === 'CERTIFICATE' ? (
              <>
                certificate <Code>{i.certificateThumbprint}</Code>, expires {formatDateTime(i.certificateExpiresAt)}
              </>
            ) : (
              <>
                secret ending <Code>{i.secretHint}</Code>
              </>
            )}
          </Text>
          <Text size="sm">Last sync: {formatDateTime(i.lastSyncAt)}</Text>
          <Text size="sm">Next sync: {i.status === 'PAUSED' ? 'paused' : formatDateTime(i.nextSyncAt)}</Text>
          <Text size="sm" data-testid="watch-mode" title={i.watchReason}>
            Changes: {i.watchMode === 'NOTIFICATIONS' ? 'notified by Microsoft Graph within seconds' : 'found by the scheduled sync'}
          </Text>
        </SimpleGrid>
        {i.watchMode === 'POLLING' && i.status !== 'PAUSED' && (
          <Text size="xs" c="dimmed" data-testid="watch-reason">
            {i.watchReason}
          </Text>
        )}
        <Table w="auto" withRowBorders={false} verticalSpacing={2}>
          <Table.Tbody>
            <Table.Tr>
              <Table.Td>Users {counts ? formatCount(counts.users) : '…'}</Table.Td>
              <Table.Td>Drives {counts ? formatCount(counts.drives) : '…'}</Table.Td>
              <Table.Td>Items {counts ? formatCount(counts.items) : '…'}</Table.Td>
              <Table.Td>Shared {counts ? formatCount(counts.sharedItems) : '…'}</Table.Td>
              <Table.Td>Permissions {counts ? formatCount(counts.permissions) : '…'}</Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
        <ExternalSource facts={facts} />
        {counts && counts.inaccessibleDrives > 0 && (
          <Alert color="orange" title="OneDrives not synced" data-testid="inaccessible-drives">
            <Text size="sm">
              {counts.inaccessibleDrives === 1 ? 'One OneDrive' : `${formatCount(counts.inaccessibleDrives)} OneDrives`} could not be read: locked
              in SharePoint or closed to the app. Their sharing is unknown; each sync tries them again.{' '}
              <Anchor component={Link} to="/drives" size="sm">
                See which on the Drives page
              </Anchor>
            </Text>
          </Alert>
        )}
        {(() => {
          const w = i.credentialType === 'CERTIFICATE' ? certificateWarning(i.certificateExpiresAt) : null;
          return (
            w &&
            i.certificateExpiresAt && (
              <Alert color={w.level === 'expired' ? 'red' : 'orange'} title="Certificate" data-testid="certificate-warning">
                <Text size="sm">{certificateWarningText(w, i.certificateExpiresAt, formatDateTime)}</Text>
              </Alert>
            )
          );
        })()}
        {i.lastError && (
          <Alert color="red" title="Last error" role="alert">
            <Stack gap="xs" align="flex-start">
              <Text size="sm">{i.lastError}</Text>
              <Button size="xs" variant="light" onClick={() => void act(() => startSync({ integrationId: i.id, full: false }), 'Sync started again.')}>
                Retry sync
              </Button>
            </Stack>
          </Alert>
        )}
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
      </Stack>
      <ConfirmDialog
        opened={confirmDelete}
        title={`Delete “${i.name}”?`}
        confirmLabel="Delete integration"
        onClose={() => setConfirmDelete(false)}
        onConfirm={async () => {
          const res = await del({ id: i.id });
          if (res.error) return errorText(res.error);
          notifications.show({ color: 'green', message: `${i.name} deleted.` });
          integration.refetch();
          return null;
        }}
      >
        <Text size="sm">{deleteIntegrationText({ ...i, counts })}</Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={rotating}
        danger={false}
        title={`Rotate the credential of “${i.name}”`}
        confirmLabel="Check and save"
        onClose={() => {
          setSecret('');
          setCertificate('');
          setRotating(false);
        }}
        onConfirm={async () => {
          const input = kind === 'certificate' ? { id: i.id, certificate } : { id: i.id, clientSecret: secret };
          if (kind === 'certificate' && !certificate.includes('BEGIN')) return 'Paste the PEM: the certificate and its private key.';
          if (kind === 'secret' && !secret) return 'Paste the new secret’s Value.';
          const res = await update({ input });
          if (res.error) return errorText(res.error);
          const saved = res.data?.updateIntegration;
          setSecret('');
          setCertificate('');
          notifications.show({
            color: 'green',
            message:
              kind === 'certificate'
                ? `New certificate saved (thumbprint ${saved?.certificateThumbprint}, expires ${formatDateTime(saved?.certificateExpiresAt)}).`
                : `New secret saved (ending ${saved?.secretHint}).`,
          });
          integration.refetch();
          return null;
        }}
      >
        <SegmentedControl
          aria-label="New credential"
          value={kind}
          onChange={(v) => setKind(v as 'secret' | 'certificate')}
          data={[
            { value: 'secret', label: 'Client secret' },
            { value: 'certificate', label: 'Certificate' },
          ]}
          mb="sm"
        />
        {kind === 'secret' ? (
          <>
            <Text size="sm">
              Create a new secret under Certificates &amp; secrets in the app registration, paste its Value here, then delete the
              old secret in Entra ID once this one is saved. Overshare checks the new secret against Microsoft Graph before
              keeping it.
            </Text>
            <PasswordInput label="New client secret" value={secret} onChange={(e) => setSecret(e.currentTarget.value)} autoComplete="off" data-autofocus />
          </>
        ) : (
          <>
            <Text size="sm">
              Upload the new certificate’s public part to the app registration (Certificates &amp; secrets), paste the PEM with
              its private key here, then remove the old certificate in Entra ID once this one is saved. Overshare signs in with
              it before keeping it.
            </Text>
            <Textarea
              label="Certificate and private key (PEM)"
              value={certificate}
              onChange={(e) => setCertificate(e.currentTarget.value)}
              autoComplete="off"
              spellCheck={false}
              autosize
              minRows={3}
              maxRows={8}
              styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
            />
            <Group justify="flex-end" mt={4}>
              <FileButton onChange={(f) => f && void f.text().then(setCertificate)} accept=".pem,.crt,.key,application/x-pem-file">
                {(props) => (
                  <Button size="xs" variant="default" {...props}>
                    Load PEM file…
                  </Button>
                )}
              </FileButton>
            </Group>
          </>
        )}
      </ConfirmDialog>
    </Paper>
  );
}

function ConnectPanel() {
  const integration = useIntegration();
  const navigate = useNavigate();
  const [, integrate] = useMutation(IntegrateMutation);
  const [form, setForm] = useState<ConnectForm>({ name: '', tenantId: '', clientId: '', credential: 'secret', clientSecret: '', certificate: '' });
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const errors = touched ? validateConnect(form) : {};
  const set = (k: keyof ConnectForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => setForm({ ...form, [k]: e.currentTarget.value });
  const loadCertificate = (file: File | null) => {
    if (file) void file.text().then((certificate) => setForm((f) => ({ ...f, certificate })));
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (Object.keys(validateConnect(form)).length) return;
    setBusy(true);
    setServerError(null);
    const res = await integrate({
      input: {
        name: form.name.trim(),
        tenantId: form.tenantId.trim(),
        clientId: form.clientId.trim(),
        // Exactly one credential: the server refuses both.
        ...(form.credential === 'certificate' ? { certificate: form.certificate } : { clientSecret: form.clientSecret }),
      },
    });
    setBusy(false);
    if (res.error || !res.data) {
      setServerError(errorText(res.error) || 'No answer from the server');
      return;
    }
    notifications.show({ color: 'green', title: 'Connected', message: `${res.data.integrate.name} is connected; the first sync has started.` });
    integration.refetch();
    navigate(`/sync?integration=${encodeURIComponent(res.data.integrate.id)}`);
  };

  return (
    <Paper withBorder p="md" radius="md">
      <Title order={3} size="h4" mb="sm">
        Connect OneDrive
      </Title>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="xl">
        <Stack gap="xs">
          <Text fw={600}>1. Register an app in Microsoft Entra ID</Text>
          <List type="ordered" size="sm" spacing={4}>
            <List.Item>
              In the{' '}
              <Anchor href="https://entra.microsoft.com/" target="_blank" rel="noopener noreferrer">
                Entra admin center
              </Anchor>
              , open Applications → App registrations → New registration. Name it “Overshare”, single tenant, no redirect URI.
            </List.Item>
            <List.Item>From the app’s Overview, copy the Directory (tenant) ID and the Application (client) ID.</List.Item>
            <List.Item>
              API permissions → Add a permission → Microsoft Graph → <b>Application permissions</b>; add the three below, then
              choose <b>Grant admin consent</b>.
            </List.Item>
            <List.Item>
              Certificates &amp; secrets → either upload a certificate (its public part, a .cer or .pem without the key; the
              credential Microsoft recommends) and keep the PEM with its private key for step 2, or create a New client
              secret and copy its <b>Value</b> (shown once), not the Secret ID.
            </List.Item>
          </List>
          <Text fw={600} mt="sm">
            Permissions to grant, and why
          </Text>
          <List size="sm" spacing={4}>
            {PERMISSIONS.map((p) => (
              <List.Item key={p.name}>
                <Code>{p.name}</Code> {p.why}
              </List.Item>
            ))}
          </List>
        </Stack>
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Connect OneDrive">
          <Stack gap="sm">
            <Text fw={600}>2. Paste what you copied</Text>
            <TextInput label="Name" placeholder="Contoso" value={form.name} onChange={set('name')} error={errors.name} required />
            <TextInput
              label="Directory (tenant) ID"
              placeholder="00000000-0000-0000-0000-000000000000"
              value={form.tenantId}
              onChange={set('tenantId')}
              error={errors.tenantId}
              required
              autoComplete="off"
            />
            <TextInput
              label="Application (client) ID"
              placeholder="00000000-0000-0000-0000-000000000000"
              value={form.clientId}
              onChange={set('clientId')}
              error={errors.clientId}
              required
              autoComplete="off"
            />
            <SegmentedControl
              aria-label="Credential"
              value={form.credential ?? 'secret'}
              onChange={(v) => setForm({ ...form, credential: v as ConnectForm['credential'] })}
              data={[
                { value: 'secret', label: 'Client secret' },
                { value: 'certificate', label: 'Certificate (PEM with private key)' },
              ]}
            />
            {form.credential === 'certificate' ? (
              <Stack gap={4}>
                <Textarea
                  label="Certificate and private key (PEM)"
                  description="Sent once, checked, stored encrypted; only its thumbprint and expiry are shown again."
                  placeholder={'-----BEGIN CERTIFICATE-----\n…\n-----BEGIN PRIVATE KEY-----\n…'}
                  value={form.certificate}
                  onChange={set('certificate')}
                  error={errors.certificate}
                  required
                  autoComplete="off"
                  spellCheck={false}
                  autosize
                  minRows={3}
                  maxRows={8}
                  styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
                />
                <Group justify="flex-end">
                  <FileButton onChange={loadCertificate} accept=".pem,.crt,.key,application/x-pem-file">
                    {(props) => (
                      <Button size="xs" variant="default" {...props}>
                        Load PEM file…
                      </Button>
                    )}
                  </FileButton>
                </Group>
              </Stack>
            ) : (
              <PasswordInput
                label="Client secret value"
                value={form.clientSecret}
                onChange={set('clientSecret')}
                error={errors.clientSecret}
                required
                autoComplete="off"
              />
            )}
            {serverError && (
              <Alert color="red" title="Microsoft 365 did not accept these credentials" role="alert" data-testid="connect-error">
                {serverError}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button type="submit" loading={busy}>
                Check and connect
              </Button>
            </Group>
            <Text size="xs" c="dimmed">
              Overshare checks the credentials against Microsoft Graph before saving anything, then starts the first sync.
            </Text>
          </Stack>
        </form>
      </SimpleGrid>
    </Paper>
  );
}
