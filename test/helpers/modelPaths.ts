/**
 * Replays one path found by xstate/graph over a test world, checking the world's invariants
 * after every step; a broken invariant names itself and the path that led there.
 */
import assert from 'node:assert/strict';

export interface World<W, E> {
  empty(): W;
  step(w: W, e: E): W;
  /** Undefined when every invariant holds, else what is broken. */
  broken(w: W): string | undefined;
}

export function replayPath<W, E>(world: World<W, E>, steps: ReadonlyArray<{ event: unknown }>): void {
  let w = world.empty();
  const done: string[] = [];
  for (const { event } of steps) {
    if ((event as { type: string }).type === 'xstate.init') continue;
    w = world.step(w, event as E);
    done.push(JSON.stringify(event));
    const b = world.broken(w);
    assert.equal(b, undefined, `${b}\npath: ${done.join(' -> ')}`);
  }
}
