import { Title } from '@mantine/core';

export default function LiveSync() {
  return <Title order={2}>LiveSync</Title>;
}
