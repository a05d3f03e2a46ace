import { Title } from '@mantine/core';

export default function Integrations() {
  return <Title order={2}>Integrations</Title>;
}
