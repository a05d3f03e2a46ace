import { describe, expect, it } from 'vitest';
import { createElement, Suspense } from 'react';
import { renderToString } from 'react-dom/server';
import { preloadable } from './preload';

function page(Screen: (p: { who: string }) => unknown): string {
  return renderToString(createElement(Suspense, { fallback: 'loading' }, createElement(Screen as never, { who: 'admin' })));
}

describe('preloadable screens', () => {
  it('shows the fallback while a screen that was not preloaded loads', () => {
    const Screen = preloadable(() => new Promise<{ default: () => string }>(() => {}));
    expect(page(Screen)).toContain('loading');
  });

  it('renders a preloaded screen at once, without its fallback', async () => {
    let loads = 0;
    const Screen = preloadable(async () => {
      loads++;
      return { default: ({ who }: { who: string }) => `hello ${who}` };
    });
    await Screen.preload();
    await Screen.preload();
    expect(loads).toBe(1);
    expect(page(Screen)).toContain('hello admin');
    expect(page(Screen)).not.toContain('loading');
  });

  it('tries a failed load again', async () => {
    let fail = true;
    const Screen = preloadable(async () => {
      if (fail) throw new Error('chunk missing');
      return { default: () => 'ok' };
    });
    await expect(Screen.preload()).rejects.toThrow('chunk missing');
    fail = false;
    await Screen.preload();
    expect(page(Screen)).toContain('ok');
    expect(page(Screen)).not.toContain('loading');
  });
});
