/**
 * A chat message reaches the other participants without waiting for its commit (LMDB commits
 * queue behind fsyncs, which stall on a busy disk), while its sender's MSRP 200 still waits for
 * the commit of its history row; and a message never overtakes what the room decided before it
 * and has not handed out yet. Commits are held up for real: another process holds the LMDB
 * environment's write lock (test/fixtures/holdWriteLock.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedClock } from '../../../src/clock.js';
import type { InspectionRecord } from '../../../src/actors/inspection.js';
import type { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import { tempDir } from '../../helpers/runtime.js';
import { SIPP } from '../../helpers/sipp.js';
import { ChatClient, DOMAIN, msrpClientEndpoint, participantOf, scenario, sipp, startParley, testConfig, until, type Parley } from './fixture.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const ROOM = `sip:early@${DOMAIN}`;

/** Holds the write lock of the data directory's LMDB environment until `release`. */
async function holdCommits(dataDir: string): Promise<{ release(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join('test', 'fixtures', 'holdWriteLock.ts'), dataDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('LOCKED') && resolve());
    void exited.then(() => reject(new Error('holdWriteLock exited before locking')));
  });
  return {
    release: () => {
      child.stdin?.end('x');
      return exited;
    },
  };
}

/** The event of an inspection record about a room event, if it is one. */
function roomEvent(r: InspectionRecord | undefined, type: string): { readonly type: string; readonly relayedTo?: unknown } | undefined {
  if (r?.type !== 'actor.event') return undefined;
  const e = r.event as { type: string; relayedTo?: unknown };
  return e.type === type ? e : undefined;
}

describe('relaying before the commit', { skip, concurrency: false }, () => {
  const dir = tempDir('parley-room-early-');
  const clock = new SimulatedClock(Date.now());
  let p: Parley;
  let endpoint: MsrpEndpoint;
  const calls: Array<{ kill(): void }> = [];
  let alice: ChatClient;
  let bob: ChatClient;

  async function join(user: string): Promise<ChatClient> {
    const c = new ChatClient(endpoint, user);
    calls.push(sipp({ scenario: scenario('room-participant.xml'), port: p.sipPort, keys: { user, room: 'early', msrp_path: c.path } }));
    await until(() => participantOf(p, ROOM, user)?.status === 'joined', `${user} joined`);
    await c.connect(p, ROOM);
    return c;
  }

  before(async () => {
    p = await startParley(testConfig(dir.path), clock);
    endpoint = await msrpClientEndpoint();
    alice = await join('alice');
    bob = await join('bob');
  });
  after(async () => {
    for (const c of calls) c.kill();
    await endpoint?.close();
    await p?.server.stop();
    dir.remove();
  });

  it('relays a message while its commit waits, and answers 200 only after the commit', async () => {
    const lock = await holdCommits(dir.path);
    try {
      let status: number | undefined;
      const said = alice.say('while the disk stalls', { room: ROOM }).then((s) => (status = s));
      await until(() => bob.chat(ROOM).some((r) => r.text === 'while the disk stalls'), 'bob got the message before the commit');
      assert.equal(status, undefined, 'no 200 before the commit');
      assert.equal(p.room.history.latest(ROOM, 10).length, 0, 'not committed yet');
      await lock.release();
      await said;
      assert.equal(status, 200);
      assert.deepEqual(
        p.room.history.latest(ROOM, 10).map((m) => Buffer.from(m.body, 'base64').toString()),
        ['while the disk stalls'],
      );
      assert.equal(bob.chat(ROOM).filter((r) => r.text === 'while the disk stalls').length, 1, 'relayed once');
    } finally {
      await lock.release();
    }
  });

  it('waits for the commit when an earlier event of the room has not been handed out', async () => {
    const seen: InspectionRecord[] = [];
    const sub = p.server.supervisor.inspection.subscribe((r) => seen.push(r));
    const lock = await holdCommits(dir.path);
    try {
      // alice renames herself: the room's answer and its notice to bob wait for the commit.
      const renamed = alice.session.sendNickname('Ally');
      await until(() => seen.some((r) => roomEvent(r, 'NICKNAME_REQUESTED')), 'the rename reached the room');
      const said = alice.say('after the rename', { room: ROOM });
      await until(() => seen.some((r) => roomEvent(r, 'MESSAGE_RECEIVED')), 'the message reached the room');
      const message = seen.map((r) => roomEvent(r, 'MESSAGE_RECEIVED')).find((e) => e !== undefined);
      assert.equal(message?.relayedTo, undefined, 'left to the room, after the commit');
      assert.equal(bob.chat(ROOM).some((r) => r.text === 'after the rename'), false);
      await lock.release();
      assert.equal((await renamed).status, 200);
      assert.equal(await said, 200);
      await until(() => bob.chat(ROOM).some((r) => r.text === 'after the rename'), 'bob got it after the commit');
      // In the order the room decided: the notice first, then the message (with the new nickname).
      const texts = bob.received.map((r) => r.text);
      const notice = texts.findIndex((t) => t.includes('is now known as Ally'));
      assert.ok(notice >= 0 && notice < texts.indexOf('after the rename'), texts.join(' | '));
      assert.equal(bob.chat(ROOM).find((r) => r.text === 'after the rename')?.nickname, 'Ally');
    } finally {
      await lock.release();
      sub.unsubscribe();
    }
  });
});
