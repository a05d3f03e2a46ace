import type { CombinedError } from 'urql';

export function errorCode(err: CombinedError | undefined | null): string | undefined {
  const e = err?.graphQLErrors?.find((g) => typeof g.extensions?.code === 'string');
  return e?.extensions?.code as string | undefined;
}

// What a person reads when a request fails: the server's words when it gave
// some (its messages are written for people), otherwise what to check.
export function errorText(err: CombinedError | Error | undefined | null): string {
  if (!err) return '';
  if ('graphQLErrors' in err) {
    const code = errorCode(err);
    if (code === 'FORBIDDEN') return 'This needs the admin role. Ask an Overshare administrator for access.';
    if (code === 'UNAUTHENTICATED') {
      // An expired token is an ended session; any other refusal (a token meant for another
      // API, such as Microsoft Graph) repeats on every sign-in, so the server's words, which
      // name the cure, are shown.
      const msg = err.graphQLErrors.find((g) => g.extensions?.code === 'UNAUTHENTICATED')?.message ?? '';
      if (!msg.startsWith('invalid token:') || /expired/.test(msg)) return 'Your session has ended. Sign in again.';
      return `The server refused the sign-in: ${msg.replace(/^invalid token: /, '')}.`;
    }
    if (err.graphQLErrors.length) return err.graphQLErrors.map((g) => g.message).join('; ');
    if (err.networkError) return `Cannot reach the Overshare server (${err.networkError.message}).`;
  }
  return err.message;
}
