/**
 * End to end with SIPp over UDP against the embedded stack + registrar + mailbox application
 * (system clock, short check_time): 1,000 MESSAGEs to an offline user all get 202; bob
 * REGISTERs a contact served by a SIPp UAS that receives all 1,000 exactly once, in order, and
 * the mailbox ends empty; a contact answering 500 gets the messages again after check_time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../../src/clock.js';
import { Store } from '../../../src/actors/store.js';
import { Supervisor } from '../../../src/actors/supervisor.js';
import { createSipStack, type SipStack } from '../../../src/transport/sip/stack.js';
import { Registrar } from '../../../src/transport/sip/registrar.js';
import { RegistrationStore } from '../../../src/transport/sip/registrationStore.js';
import { createMailboxApplication, type MailboxApplication } from '../../../src/app/mailbox/application.js';
import { listMailbox, mailboxStats } from '../../../src/app/mailbox/admin.js';
import { freePort, SIPP, udpBound } from '../../helpers/sipp.js';

const logger = pino({ level: 'silent' });
const scenario = (name: string) => join(process.cwd(), 'test', 'sipp', name);
const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const BOB = 'sip:bob@parley.example';

interface Run {
  code: number | null;
  messages: string;
  stderr: string;
}

/** Runs one SIPp instance; `remote` undefined = UAS mode. Resolves on exit. */
function sipp(args: { scenario: string; port: number; remote?: number; calls: number; rate?: number; keys?: Record<string, string>; timeoutMs?: number }): { done: Promise<Run>; kill(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-mb-'));
  const argv = [
    ...(args.remote !== undefined ? [`127.0.0.1:${args.remote}`] : []),
    '-sf', args.scenario, '-m', String(args.calls), '-r', String(args.rate ?? 500), '-l', '200',
    '-t', 'u1', '-i', '127.0.0.1', '-p', String(args.port), '-nostdin',
    '-timeout', `${Math.round((args.timeoutMs ?? 60_000) / 1000)}s`, '-timeout_error',
    '-trace_msg', '-message_file', join(dir, 'messages.log'),
    ...Object.entries(args.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
  ];
  const child = spawn(SIPP, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code) => {
      let messages = '';
      try {
        messages = readFileSync(join(dir, 'messages.log'), 'utf8');
      } catch {
        /* no trace */
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, messages, stderr });
    }),
  );
  return { done, kill: () => child.kill('SIGKILL') };
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

describe('mailbox end to end with SIPp', { skip, concurrency: false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mb-sipp-'));
  let store: Store;
  let stack: SipStack;
  let registrar: Registrar;
  let supervisor: Supervisor;
  let app: MailboxApplication;

  before(async () => {
    const clock = systemClock();
    store = new Store({ path: dir });
    registrar = new Registrar({ store: new RegistrationStore(store.openDB('registrations')), clock, logger });
    stack = await createSipStack({ host: '127.0.0.1', port: 0, logger, clock, registrar });
    app = createMailboxApplication({
      store, sip: stack, clock, logger, domains: ['parley.example'],
      contacts: { contactsOf: (aor) => registrar.lookup(aor) },
      registrationEvents: registrar.events,
      dispatcher: () => supervisor,
      config: { checkTimeMs: 2000, maxInFlight: 10 },
    });
    supervisor = new Supervisor({ store, clock, logger, kinds: [...app.kinds], effects: { storeWrites: app.storeWrites, execute: app.execute } });
    supervisor.start();
    registrar.start();
    stack.onRequest((r) => (app.accepts(r) ? app.handle(r) : r.respond(404)));
  });
  after(async () => {
    await stack.close();
    await app.stop();
    registrar.close();
    await supervisor.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function unregister(): Promise<void> {
    for (const b of registrar.lookup(BOB)) {
      await registrar.process({
        kind: 'request', method: 'REGISTER', uri: 'sip:parley.example', body: Buffer.alloc(0),
        headers: [
          { name: 'to', value: `<${BOB}>` }, { name: 'from', value: `<${BOB}>;tag=x` }, { name: 'call-id', value: `unreg-${Date.now()}` },
          { name: 'cseq', value: '1 REGISTER' }, { name: 'contact', value: `<${b.uri}>` }, { name: 'expires', value: '0' },
        ],
      });
    }
  }

  it('stores 1,000 MESSAGEs (all 202) and delivers them exactly once, in order, on REGISTER', async () => {
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
    await unregister();
  });

  it('a contact answering 500 receives the messages again after check_time', async () => {
    const port = stack.ports.udp as number;
    const stored = await sipp({ scenario: scenario('mailbox-store.xml'), port: await freePort(), remote: port, calls: 10 }).done;
    assert.equal(stored.code, 0);
    const uasPort = await freePort();
    const refusing = sipp({ scenario: scenario('mailbox-uas-500.xml'), port: uasPort, calls: 10 });
    await udpBound(uasPort);
    const t0 = Date.now();
    await sipp({ scenario: scenario('mailbox-register.xml'), port: await freePort(), remote: port, calls: 1, keys: { uasport: String(uasPort) } }).done;
    const first = await refusing.done;
    assert.equal(receivedBodies(first.messages).length, 10);
    const taking = sipp({ scenario: scenario('mailbox-uas.xml'), port: uasPort, calls: 10 });
    const second = await taking.done;
    assert.equal(second.code, 0, second.stderr.slice(-1000));
    assert.deepEqual(receivedBodies(second.messages), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(Date.now() - t0 >= 2000, 'not before check_time');
    await unregister();
  });
});
