/**
 * End to end with SIPp over UDP against the embedded stack + registrar + mailbox application:
 * 1,000 MESSAGEs to an offline user all get 202; bob REGISTERs a contact served by a SIPp UAS
 * that receives all 1,000 exactly once, in order, and the mailbox ends empty (system clock:
 * nothing there waits for a Parley timer, its SIP retransmissions stay real). A contact
 * answering 500 gets the messages again at check_time, not before: that server runs on a
 * SimulatedClock the test advances to 1 ms short of check_time (nothing re-sent) and then to
 * it (all 10 arrive); SIPp keeps its own real-time timers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SimulatedClock, systemClock, type Clock } from '../../../src/clock.js';
import { Store } from '../../../src/actors/store.js';
import { Supervisor } from '../../../src/actors/supervisor.js';
import { createSipStack, type SipStack } from '../../../src/transport/sip/stack.js';
import { Registrar } from '../../../src/transport/sip/registrar.js';
import { RegistrationStore } from '../../../src/transport/sip/registrationStore.js';
import { createMailboxApplication, type MailboxApplication } from '../../../src/app/mailbox/application.js';
import { listMailbox, mailboxStats } from '../../../src/app/mailbox/admin.js';
import type { MailboxContext } from '../../../src/machines/mailboxTypes.js';
import { freePort, SIPP, spawnSipp, udpBound, type SippRun } from '../../helpers/sipp.js';

const logger = pino({ level: 'silent' });
const scenario = (name: string) => join(process.cwd(), 'test', 'sipp', name);
const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const BOB = 'sip:bob@parley.example';

/** Runs one SIPp instance; `remote` undefined = UAS mode. Resolves on exit. */
function sipp(args: { scenario: string; port: number; remote?: number; calls: number; rate?: number; keys?: Record<string, string>; timeoutMs?: number }): { done: Promise<SippRun>; kill(): void } {
  return spawnSipp([
    ...(args.remote !== undefined ? [`127.0.0.1:${args.remote}`] : []),
    '-sf', args.scenario, '-m', String(args.calls), '-r', String(args.rate ?? 500), '-l', '200',
    '-t', 'u1', '-i', '127.0.0.1', '-p', String(args.port), '-nostdin',
    '-timeout', `${Math.round((args.timeoutMs ?? 60_000) / 1000)}s`, '-timeout_error',
    ...Object.entries(args.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
  ]);
}

/** Bodies `msg N` of the MESSAGE requests a UAS received, in arrival order. */
function receivedBodies(trace: string): number[] {
  const out: number[] = [];
  for (const block of trace.split(/----------------------------------------------- /)) {
    if (!/message received/.test(block) || !/^MESSAGE /m.test(block)) continue;
    const m = /^msg (\d+)\s*$/m.exec(block);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/** Polls the event loop (not a protocol timer) until `pred` holds. */
async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The embedded stack + registrar + mailbox application on `clock`, LMDB in a fresh temp dir. */
async function startParley(clock: Clock, checkTimeMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mb-sipp-'));
  const store = new Store({ path: dir });
  const registrar = new Registrar({ store: new RegistrationStore(store.openDB('registrations')), clock, logger });
  const stack: SipStack = await createSipStack({ host: '127.0.0.1', port: 0, logger, clock, registrar });
  let supervisor!: Supervisor;
  const app: MailboxApplication = createMailboxApplication({
    store, sip: stack, clock, logger, domains: ['parley.example'],
    contacts: { contactsOf: (aor) => registrar.lookup(aor) },
    registrationEvents: registrar.events,
    dispatcher: () => supervisor,
    config: { checkTimeMs, maxInFlight: 10 },
  });
  supervisor = new Supervisor({ store, clock, logger, kinds: [...app.kinds], effects: { storeWrites: app.storeWrites, execute: app.execute } });
  supervisor.start();
  registrar.start();
  stack.onRequest((r) => (app.accepts(r) ? app.handle(r) : r.respond(404)));
  return {
    store, stack, registrar, supervisor, app,
    port: stack.ports.udp as number,
    admin: { supervisor, store: app.mailboxStore, clock },
    async unregister(): Promise<void> {
      for (const b of registrar.lookup(BOB)) {
        await registrar.process({
          kind: 'request', method: 'REGISTER', uri: 'sip:parley.example', body: Buffer.alloc(0),
          headers: [
            { name: 'to', value: `<${BOB}>` }, { name: 'from', value: `<${BOB}>;tag=x` }, { name: 'call-id', value: `unreg-${Date.now()}` },
            { name: 'cseq', value: '1 REGISTER' }, { name: 'contact', value: `<${b.uri}>` }, { name: 'expires', value: '0' },
          ],
        });
      }
    },
    async close(): Promise<void> {
      await stack.close();
      await app.stop();
      registrar.close();
      await supervisor.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('mailbox end to end with SIPp', { skip, concurrency: false }, () => {
  it('stores 1,000 MESSAGEs (all 202) and delivers them exactly once, in order, on REGISTER', async () => {
    const parley = await startParley(systemClock(), 2000);
    const { store, stack, supervisor, app } = parley;
    try {
      const port = stack.ports.udp as number;
      const store1k = await sipp({ scenario: scenario('mailbox-store.xml'), port: await freePort(), remote: port, calls: 1000 }).done;
      assert.equal(store1k.code, 0, `every MESSAGE answered 202\n${store1k.stderr.slice(-2000)}`);
      assert.equal(listMailbox({ supervisor, store: app.mailboxStore, clock: systemClock() }, BOB).count, 1000);

      const uasPort = await freePort();
      const uas = sipp({ scenario: scenario('mailbox-uas.xml'), port: uasPort, calls: 1000, timeoutMs: 60_000 });
      await udpBound(uasPort);
      const reg = await sipp({ scenario: scenario('mailbox-register.xml'), port: await freePort(), remote: port, calls: 1, keys: { uasport: String(uasPort) } }).done;
      assert.equal(reg.code, 0, reg.stderr);
      const got = await uas.done;
      assert.equal(got.code, 0, got.stderr.slice(-2000));
      const bodies = receivedBodies(got.messages);
      assert.equal(bodies.length, 1000, 'exactly 1,000 received');
      assert.deepEqual(bodies, Array.from({ length: 1000 }, (_, i) => i + 1), 'in order, each once');
      // The last 2xx answers are being committed.
      for (let i = 0; i < 50 && store.snapshots.get(['mailbox', BOB]) !== undefined; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(listMailbox({ supervisor, store: app.mailboxStore, clock: systemClock() }, BOB).messages.length, 0);
      assert.equal(store.snapshots.get(['mailbox', BOB]), undefined, 'the empty mailbox stopped');
      assert.equal(mailboxStats({ supervisor, store: app.mailboxStore, clock: systemClock() }).dumped_messages, 1000);
      await parley.unregister();
    } finally {
      await parley.close();
    }
  });

  it('a contact answering 500 receives the messages again at check_time, not before', async () => {
    const CHECK_MS = 30_000; // msilo's default: simulated, nobody waits for it
    const clock = new SimulatedClock();
    const parley = await startParley(clock, CHECK_MS);
    const mailbox = () => parley.supervisor.peek('mailbox', BOB)?.context as MailboxContext | undefined;
    let taking: ReturnType<typeof sipp> | undefined;
    try {
      const stored = await sipp({ scenario: scenario('mailbox-store.xml'), port: await freePort(), remote: parley.port, calls: 10 }).done;
      assert.equal(stored.code, 0, stored.stderr.slice(-1000));
      const uasPort = await freePort();
      const refusing = sipp({ scenario: scenario('mailbox-uas-500.xml'), port: uasPort, calls: 10, timeoutMs: 10_000 });
      await udpBound(uasPort);
      const t0 = clock.now(); // Parley's time stands still until the test moves it
      const reg = await sipp({ scenario: scenario('mailbox-register.xml'), port: await freePort(), remote: parley.port, calls: 1, keys: { uasport: String(uasPort) } }).done;
      assert.equal(reg.code, 0, reg.stderr);
      const first = await refusing.done;
      assert.equal(first.code, 0, first.stderr.slice(-1000));
      assert.deepEqual(receivedBodies(first.messages), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'the first pass sent all 10');
      // Every 500 taken: the pass is over and the retry is armed check_time after it.
      await until(() => mailbox()?.pass === null && mailbox()?.inflight.length === 0, 'the end of the failed pass');
      assert.equal(mailbox()?.checkAt, t0 + CHECK_MS, 'retry due at check_time');

      taking = sipp({ scenario: scenario('mailbox-uas.xml'), port: uasPort, calls: 10, timeoutMs: 10_000 });
      let took = false;
      void taking.done.then(() => (took = true));
      await udpBound(uasPort);

      // 1 ms short of check_time: no pass starts, nothing is sent.
      clock.advance(CHECK_MS - 1);
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setImmediate(r));
        await parley.store.settled();
      }
      await new Promise((r) => setTimeout(r, 100)); // room for a wrongly sent MESSAGE to reach SIPp
      assert.equal(mailbox()?.pass, null, 'no delivery pass before check_time');
      assert.equal(mailbox()?.inflight.length, 0, 'nothing in flight before check_time');
      assert.equal(listMailbox(parley.admin, BOB).count, 10, 'all 10 still stored');
      assert.equal(took, false, 'the contact received nothing before check_time');

      // At check_time: all 10 again, in order, and this time taken.
      clock.advance(1);
      const second = await taking.done;
      assert.equal(second.code, 0, second.stderr.slice(-1000));
      assert.deepEqual(receivedBodies(second.messages), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(clock.now(), t0 + CHECK_MS);
      await until(() => listMailbox(parley.admin, BOB).count === 0, 'the 2xx answers committed');
      const stats = mailboxStats(parley.admin);
      assert.deepEqual([stats.failed_messages, stats.dumped_messages], [10, 10], '10 refused once, then delivered');
    } finally {
      taking?.kill();
      await parley.close();
    }
  });
});
