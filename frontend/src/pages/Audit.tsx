import { Title } from '@mantine/core';

export default function Audit() {
  return <Title order={2}>Audit</Title>;
}
