import { describe, expect, it } from 'vitest';
import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { errorText } from './errors';

const unauthenticated = (message: string) =>
  new CombinedError({ graphQLErrors: [new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } })] });

describe('errorText', () => {
  it('calls an expired token an ended session', () => {
    expect(errorText(unauthenticated('invalid token: the token expired at 2026-12-07T12:00:00Z'))).toBe('Your session has ended. Sign in again.');
    expect(errorText(unauthenticated('authentication required: send a bearer token'))).toBe('Your session has ended. Sign in again.');
  });
  it("shows the server's words for a token meant for another API", () => {
    const text = errorText(
      unauthenticated('invalid token: the token is for Microsoft Graph, not for this API; request the scope api://x/Overshare.Access'),
    );
    expect(text).toContain('Microsoft Graph');
    expect(text).toContain('api://x/Overshare.Access');
  });
});
