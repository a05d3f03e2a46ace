import { createElement, lazy, type ComponentType } from 'react';

// A lazily loaded screen whose code can be fetched before it is first shown.
// React.lazy suspends on its first render even when the module is already in
// (it learns so only after a microtask), which shows the fallback and delays
// the screen's own requests; once loaded, this renders the module directly.
export function preloadable<P extends object>(load: () => Promise<{ default: ComponentType<P> }>) {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<{ default: ComponentType<P> }> | null = null;
  const preload = () =>
    (pending ??= load().then(
      (m) => {
        loaded = m.default;
        return m;
      },
      (err: unknown) => {
        // A failed fetch (a new deployment, a network blip) is tried again by the next render.
        pending = null;
        throw err;
      },
    ));
  const Lazy = lazy(preload);
  function Screen(props: P) {
    return loaded ? createElement(loaded, props) : createElement(Lazy as unknown as ComponentType<P>, props);
  }
  return Object.assign(Screen, { preload });
}
