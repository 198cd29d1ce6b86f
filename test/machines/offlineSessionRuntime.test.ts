/**
 * The offline-session machine on the real runtime (Supervisor, LMDB, durable timers) driven by
 * a SimulatedClock: the grace window is a persisted timer that ends the session at exactly
 * offer + 90 s, also across a restart of the runtime, and every effect leaves only after its
 * commit.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from '../../src/clock.js';
import { offlineSessionKind, OFFLINE_SESSION_KIND } from '../../src/actors/offlineSessionKind.js';
import { offlineSessionEvents as ev, type OfflineSessionInput } from '../../src/machines/offlineSessionEffects.js';
import { createTestRuntime, tempDir } from '../helpers/runtime.js';

const KEY = 'call-9;tag-9';
const INPUT: OfflineSessionInput = {
  key: KEY,
  callee: 'sip:bob@parley.example',
  caller: 'sip:alice@example.com',
  dialog: { callId: 'call-9' },
  greeting: 'hello',
  graceMs: 90_000,
  maxMessages: 10,
};
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('offline session on the runtime with a simulated clock', () => {
  it('greets on connect, and BYEs at exactly offer + 90 s after a restart at 30 s', async () => {
    const dir = tempDir();
    const clock = new SimulatedClock();
    const t0 = clock.now();
    let rt = createTestRuntime(dir.path, [offlineSessionKind()], { clock });
    try {
      assert.equal(await rt.supervisor.dispatch(OFFLINE_SESSION_KIND, KEY, ev.offered(t0, 'inv', INPUT), { create: true }), 'ok');
      assert.equal(await rt.supervisor.dispatch(OFFLINE_SESSION_KIND, KEY, ev.msrpConnected(t0)), 'ok');
      assert.deepEqual(rt.executed.map((x) => x.effect.type), ['offline.answer', 'offline.greet']);
      assert.ok(rt.executed.every((x) => x.committedBefore), 'effects only after the commit');

      clock.advance(30_000);
      await rt.close();
      rt = createTestRuntime(dir.path, [offlineSessionKind()], { clock });
      clock.advance(59_999);
      await settle();
      assert.equal(rt.executed.length, 0, 'nothing before the window ends');
      assert.ok(rt.supervisor.peek(OFFLINE_SESSION_KIND, KEY));
      clock.advance(1);
      await settle();
      assert.deepEqual(rt.executed.map((x) => [x.effect.type, x.at]), [
        ['offline.closeMsrp', t0 + 90_000],
        ['offline.bye', t0 + 90_000],
      ]);
      assert.equal(rt.supervisor.peek(OFFLINE_SESSION_KIND, KEY), undefined, 'the ended session left no snapshot');
      assert.equal(rt.store.timers.getKeysCount(), 0, 'nor a timer');
    } finally {
      await rt.close();
      dir.remove();
    }
  });

  it('an early BYE answers 200, cancels the window, and nothing fires later', async () => {
    const dir = tempDir();
    const clock = new SimulatedClock();
    const rt = createTestRuntime(dir.path, [offlineSessionKind()], { clock });
    try {
      await rt.supervisor.dispatch(OFFLINE_SESSION_KIND, KEY, ev.offered(clock.now(), 'inv', INPUT), { create: true });
      clock.advance(10_000);
      await rt.supervisor.dispatch(OFFLINE_SESSION_KIND, KEY, ev.byeReceived(clock.now(), 'bye'));
      clock.advance(200_000);
      await settle();
      assert.deepEqual(rt.executed.map((x) => x.effect.type), ['offline.answer', 'offline.respond', 'offline.closeMsrp']);
      assert.equal(rt.store.timers.getKeysCount(), 0);
    } finally {
      await rt.close();
      dir.remove();
    }
  });
});
