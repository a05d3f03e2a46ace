import { Title } from '@mantine/core';

export default function Drives() {
  return <Title order={2}>Drives</Title>;
}
