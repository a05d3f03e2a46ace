import { Title } from '@mantine/core';

export default function SharedFiles() {
  return <Title order={2}>SharedFiles</Title>;
}
