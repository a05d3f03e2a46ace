import { Title } from '@mantine/core';

export default function Users() {
  return <Title order={2}>Users</Title>;
}
