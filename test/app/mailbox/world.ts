/**
 * The mailbox application on the real runtime (LMDB in a temp dir, SimulatedClock) with a fake
 * SIP transport, shared by the mailbox application tests.
 */
import { pino } from 'pino';
import { SimulatedClock } from '../../../src/clock.js';
import { Store } from '../../../src/actors/store.js';
import { Supervisor } from '../../../src/actors/supervisor.js';
import type { ActorRef, Effect } from '../../../src/actors/effects.js';
import { createMailboxApplication, type MailboxApplication } from '../../../src/app/mailbox/application.js';
import type { IncomingRequest, OutgoingRequest, SipTransport } from '../../../src/transport/sip/transport.js';
import type { SipRequest, SipResponse } from '../../../src/transport/sip/message.js';
import { RegistrationEvents } from '../../../src/transport/sip/registrar.js';
import type { RegisteredContact } from '../../../src/transport/sip/registrationStore.js';
import type { MailboxConfig } from '../../../src/machines/mailboxTypes.js';

export const logger = pino({ level: 'silent' });
export const BOB = 'sip:bob@parley.example';

/** A transport whose outgoing requests are answered by `answer` (default 200). */
export class FakeSip implements SipTransport {
  readonly sent: OutgoingRequest[] = [];
  answer: (r: OutgoingRequest) => number = () => 200;
  onRequest(): void {}
  onCancel(): void {}
  onAckTimeout(): void {}
  async sendRequest(r: OutgoingRequest): Promise<SipResponse> {
    this.sent.push(r);
    return { kind: 'response', status: this.answer(r), reason: '', headers: [], body: Buffer.alloc(0) };
  }
  sendAck(): void {}
  contactUri(): string {
    return 'sip:127.0.0.1:5060';
  }
  async close(): Promise<void> {}
}

/** MESSAGE number `n` from alice; `answers` collects [status, reason], `statuses` the statuses. */
export function incoming(n: number, opts: { callId?: string; headers?: Array<{ name: string; value: string }>; to?: string; body?: string } = {}) {
  const request: SipRequest = {
    kind: 'request',
    method: 'MESSAGE',
    uri: opts.to ?? BOB,
    headers: [
      { name: 'from', value: `"Alice" <sip:alice@example.com>;tag=a${n}` },
      { name: 'to', value: `<${opts.to ?? BOB}>` },
      { name: 'call-id', value: opts.callId ?? `call-${n}` },
      { name: 'cseq', value: '1 MESSAGE' },
      { name: 'content-type', value: 'text/plain' },
      ...(opts.headers ?? []),
    ],
    body: Buffer.from(opts.body ?? `message ${n}`),
  };
  const answers: Array<[number, string | undefined]> = [];
  const statuses: number[] = [];
  let done!: () => void;
  const answered = new Promise<void>((r) => (done = r));
  const req: IncomingRequest = {
    request,
    source: { host: '127.0.0.1', port: 5070, transport: 'udp' },
    localTag: `t${n}`,
    answered: false,
    cancelled: false,
    respond(status, reason) {
      answers.push([status, reason]);
      statuses.push(status);
      done();
    },
  };
  return { req, answers, statuses, answered };
}

export function setup(dir: string, opts: { config?: Partial<MailboxConfig>; clock?: SimulatedClock; addDate?: boolean; notify?: boolean } = {}) {
  const clock = opts.clock ?? new SimulatedClock();
  const store = new Store({ path: dir });
  const sip = new FakeSip();
  const contacts = new Map<string, RegisteredContact[]>();
  const events = new RegistrationEvents(logger);
  let supervisor!: Supervisor;
  const app: MailboxApplication = createMailboxApplication({
    store,
    sip,
    clock,
    logger,
    domains: ['parley.example'],
    contacts: { contactsOf: (aor) => contacts.get(aor) ?? [] },
    registrationEvents: events,
    dispatcher: () => supervisor,
    config: { checkTimeMs: 30_000, ...opts.config },
    delivery: { addDate: opts.addDate ?? false },
    ...(opts.notify ? { notify: { from: 'sip:offline@parley.example' } } : {}),
  });
  /** While true, the mailbox's message writes are refused (as a failing commit). */
  let refuse = false;
  const storeWrites = (e: Effect, a: ActorRef) => {
    if (refuse && e.type === 'store.putMessage') throw new Error('MDB_MAP_FULL: simulated');
    return app.storeWrites(e, a);
  };
  supervisor = new Supervisor({ store, clock, logger, kinds: [...app.kinds], effects: { storeWrites, execute: app.execute } });
  supervisor.start();
  const admin = { supervisor, store: app.mailboxStore, clock };
  return {
    clock, store, sip, app, supervisor, admin, contacts,
    set refuse(v: boolean) {
      refuse = v;
    },
    register(uri = 'sip:bob@127.0.0.1:5080') {
      contacts.set(BOB, [{ uri, path: [] }]);
      events.emit({ type: 'online', aor: BOB, contacts: contacts.get(BOB) ?? [] });
    },
    unregister() {
      contacts.delete(BOB);
      events.emit({ type: 'offline', aor: BOB, contacts: [] });
    },
    async close() {
      await app.stop();
      await supervisor.stop();
      await store.close();
    },
  };
}

/** Lets the executor's microtasks, the SIP promises and LMDB commits run. */
export async function settle(s: { store: Store }, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise((r) => setImmediate(r));
    await s.store.settled();
  }
}
