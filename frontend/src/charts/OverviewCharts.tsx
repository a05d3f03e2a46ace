import '@mantine/charts/styles.css';
import { BarChart, DonutChart, LineChart } from '@mantine/charts';
import { Text } from '@mantine/core';
import { scopeColor, scopeShort } from '../lib/format';
import type { SharingScope } from '../gql/graphql';

// Charts live in their own chunk: recharts is the largest dependency and only
// the Overview needs it.

export function ScopeDonut({ data }: { data: { scope: SharingScope; items: number }[] }) {
  const rows = data.filter((d) => d.items > 0);
  if (!rows.length) return <Text c="dimmed">Nothing is shared.</Text>;
  return (
    <DonutChart
      data={rows.map((d) => ({ name: scopeShort(d.scope), value: d.items, color: `${scopeColor(d.scope)}.6` }))}
      withLabelsLine
      withLabels
      tooltipDataSource="segment"
      size={160}
      thickness={28}
      chartLabel="items"
      aria-label="Shared items by scope"
    />
  );
}

export function SharersBar({ data }: { data: { name: string; sharedItems: number }[] }) {
  if (!data.length) return <Text c="dimmed">No one shares anything yet.</Text>;
  return (
    <BarChart
      h={Math.max(160, data.length * 28)}
      data={data}
      dataKey="name"
      orientation="vertical"
      yAxisProps={{ width: 140 }}
      series={[{ name: 'sharedItems', label: 'Shared items', color: 'indigo.6' }]}
      aria-label="Top sharers"
    />
  );
}

// Items exposed at each level at the end of each day: the history's intervals, so the
// trend is there from the first sync on.
export function ExposureTrend({
  data,
  days,
}: {
  data: { day: string; anonymous: number; organization: number; external: number }[];
  days: number;
}) {
  const first = data[0];
  if (!first) return <Text c="dimmed">No exposure recorded yet: the history starts with the first sync.</Text>;
  return (
    <>
      {data.length < days && (
        <Text size="xs" c="dimmed" mb="xs">
          Since {new Date(first.day).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' })}, when the
          history starts.
        </Text>
      )}
      <ExposureLines data={data} />
    </>
  );
}

function ExposureLines({ data }: { data: { day: string; anonymous: number; organization: number; external: number }[] }) {
  return (
    <LineChart
      h={200}
      data={data.map((d) => ({ ...d, day: new Date(d.day).toLocaleDateString('en-GB', { day: 'numeric', month: 'short' }) }))}
      dataKey="day"
      series={[
        { name: 'anonymous', label: 'Anyone links', color: 'red.6' },
        { name: 'external', label: 'External', color: 'orange.6' },
        { name: 'organization', label: 'Organisation', color: 'yellow.6' },
      ]}
      curveType="monotone"
      withLegend
      aria-label="Exposed items per day"
    />
  );
}
