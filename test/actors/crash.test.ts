import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/runtime.js';
import { forkFixture, type FixtureChild } from '../helpers/child.js';

const CHILD = fileURLToPath(new URL('../fixtures/supervisorChild.ts', import.meta.url));
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);

function start(dir: string, at: number): FixtureChild {
  return forkFixture(CHILD, [dir, String(at)]);
}

test('SIGKILL in the middle of a stream loses no committed event, and pending timers fire at their original due time', async () => {
  const dir = tempDir();
  const children: ChildProcess[] = [];
  try {
    const a = start(dir.path, T0);
    children.push(a.child);
    await a.next((m) => m.ready);
    const acked = new Set<string>();
    const killAfter = 300 + Math.floor(Math.random() * 400);
    const killed = new Promise<void>((resolve) => {
      a.child.on('message', (m: any) => {
        if (m.joined === undefined) return;
        acked.add(`p${m.joined}`);
        if (acked.size === killAfter) {
          a.child.kill('SIGKILL');
          resolve();
        }
      });
    });
    for (let i = 0; i < 3000; i++) a.child.send({ cmd: 'join', i });
    await killed;
    await once(a.child, 'exit');
    assert.ok(acked.size >= killAfter);

    // Restarted a second after the stream: every acknowledged join is there.
    const b = start(dir.path, T0 + 1000);
    children.push(b.child);
    await b.next((m) => m.ready);
    b.child.send({ cmd: 'state' });
    const { participants } = await b.next((m) => m.participants);
    const present = new Set<string>(participants);
    const lost = [...acked].filter((id) => !present.has(id));
    assert.deepEqual(lost, [], 'acknowledged joins lost by the crash');

    // Their 5 s ACK timers, armed at T0, fire at T0 + 5000 and not before.
    b.child.send({ cmd: 'advanceTo', t: T0 + 4999 });
    assert.deepEqual((await b.next((m) => m.byes)).byes, []);
    b.child.send({ cmd: 'advanceTo', t: T0 + 5000 });
    const { byes } = await b.next((m) => m.byes);
    assert.equal(byes.length, present.size, 'one BYE per unacknowledged participant');
    assert.ok(byes.every((x: { at: number }) => x.at === T0 + 5000));
  } finally {
    // A failed assertion must not leave a child holding the test runner open.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    dir.remove();
  }
});
