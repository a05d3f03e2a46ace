import { Title } from '@mantine/core';

export default function Overview() {
  return <Title order={2}>Overview</Title>;
}
