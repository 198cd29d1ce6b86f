import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from '../../../src/clock.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../src/transport/sip/message.js';
import { ClientNonInviteTransaction } from '../../../src/transport/sip/transaction/clientNonInvite.js';
import { ClientInviteTransaction } from '../../../src/transport/sip/transaction/clientInvite.js';
import { ServerInviteTransaction } from '../../../src/transport/sip/transaction/serverInvite.js';
import { ServerNonInviteTransaction } from '../../../src/transport/sip/transaction/serverNonInvite.js';
import { AckWait } from '../../../src/transport/sip/transaction/ackWait.js';
import { defaultSipTimers } from '../../../src/transport/sip/transaction/timers.js';
import { newBranch } from '../../../src/transport/sip/transaction/branch.js';
import { serverKey, TransactionTable } from '../../../src/transport/sip/transaction/table.js';

function req(method: string): SipRequest {
  return {
    kind: 'request',
    method,
    uri: 'sip:bob@example.com',
    headers: [
      { name: 'via', value: 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc' },
      { name: 'route', value: '<sip:proxy.example.com;lr>' },
      { name: 'from', value: '<sip:alice@example.com>;tag=a1' },
      { name: 'to', value: '<sip:bob@example.com>' },
      { name: 'call-id', value: 'c1' },
      { name: 'cseq', value: `7 ${method}` },
    ],
    body: Buffer.alloc(0),
  };
}
function res(status: number, toTag = 'b1'): SipResponse {
  return {
    kind: 'response',
    status,
    reason: 'R',
    headers: [
      { name: 'via', value: 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc' },
      { name: 'from', value: '<sip:alice@example.com>;tag=a1' },
      { name: 'to', value: `<sip:bob@example.com>;tag=${toTag}` },
      { name: 'call-id', value: 'c1' },
      { name: 'cseq', value: '7 INVITE' },
    ],
    body: Buffer.alloc(0),
  };
}

function env(reliable: boolean) {
  const clock = new SimulatedClock(0);
  const sent: Array<{ at: number; msg: SipMessage }> = [];
  return { clock, sent, e: { clock, timers: defaultSipTimers, reliable, send: (msg: SipMessage) => sent.push({ at: clock.now(), msg }) } };
}
function tu() {
  const t = { responses: [] as SipResponse[], timeouts: [] as string[], terminated: 0 };
  return {
    t,
    user: { onResponse: (r: SipResponse) => t.responses.push(r), onTimeout: (k: string) => t.timeouts.push(k), onTerminated: () => t.terminated++ },
  };
}

describe('non-INVITE client transaction', () => {
  it('retransmits over UDP at 500, 1000, 2000, 4000, 4000... ms and times out with 408 at 64*T1', () => {
    const { clock, sent, e } = env(false);
    const { t, user } = tu();
    new ClientNonInviteTransaction(e, req('MESSAGE'), user).start();
    clock.advance(32_000);
    assert.deepEqual(sent.map((s) => s.at), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.deepEqual(t.timeouts, ['timeout']);
    assert.equal(t.terminated, 1);
    clock.advance(10_000);
    assert.equal(sent.length, 11);
  });

  it('never retransmits over TCP but still times out', () => {
    const { clock, sent, e } = env(true);
    const { t, user } = tu();
    new ClientNonInviteTransaction(e, req('MESSAGE'), user).start();
    clock.advance(31_999);
    assert.equal(sent.length, 1);
    assert.deepEqual(t.timeouts, []);
    clock.advance(1);
    assert.deepEqual(t.timeouts, ['timeout']);
  });

  it('retransmits at T2 once a provisional response arrived, and absorbs retransmitted finals for T4', () => {
    const { clock, sent, e } = env(false);
    const { t, user } = tu();
    const tx = new ClientNonInviteTransaction(e, req('MESSAGE'), user);
    tx.start();
    clock.advance(100);
    tx.receive(res(100));
    clock.advance(400); // first E at 500 -> next at T2
    clock.advance(4000);
    assert.deepEqual(sent.map((s) => s.at), [0, 500, 4500]);
    tx.receive(res(200));
    tx.receive(res(200));
    assert.deepEqual(t.responses.map((r) => r.status), [100, 200]);
    assert.equal(tx.state, 'completed');
    clock.advance(4999);
    assert.equal(t.terminated, 0);
    clock.advance(1);
    assert.equal(t.terminated, 1);
    assert.equal(sent.length, 3);
  });

  it('reports a transport error once and stops', () => {
    const { clock, e } = env(false);
    const { t, user } = tu();
    const tx = new ClientNonInviteTransaction(e, req('OPTIONS'), user);
    tx.start();
    tx.transportError();
    clock.advance(60_000);
    assert.deepEqual(t.timeouts, ['transport']);
    assert.equal(clock.pending, 0);
  });
});

describe('INVITE client transaction', () => {
  it('retransmits with timer A doubling without cap and times out at timer B', () => {
    const { clock, sent, e } = env(false);
    const { t, user } = tu();
    new ClientInviteTransaction(e, req('INVITE'), user).start();
    clock.advance(40_000);
    assert.deepEqual(sent.map((s) => s.at), [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert.deepEqual(t.timeouts, ['timeout']);
  });

  it('stops retransmitting on a provisional response and no longer times out', () => {
    const { clock, sent, e } = env(false);
    const { t, user } = tu();
    const tx = new ClientInviteTransaction(e, req('INVITE'), user);
    tx.start();
    tx.receive(res(180));
    clock.advance(100_000);
    assert.equal(sent.length, 1);
    assert.deepEqual(t.timeouts, []);
    assert.equal(tx.state, 'proceeding');
  });

  it('ACKs a non-2xx final response itself with the INVITE top Via, Route and the response To', () => {
    const { clock, sent, e } = env(false);
    const { t, user } = tu();
    const tx = new ClientInviteTransaction(e, req('INVITE'), user);
    tx.start();
    tx.receive(res(486));
    const ack = sent[1].msg as SipRequest;
    assert.equal(ack.method, 'ACK');
    assert.equal(ack.uri, 'sip:bob@example.com');
    const h = (n: string) => ack.headers.filter((x) => x.name === n).map((x) => x.value);
    assert.deepEqual(h('via'), ['SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc']);
    assert.deepEqual(h('route'), ['<sip:proxy.example.com;lr>']);
    assert.deepEqual(h('to'), ['<sip:bob@example.com>;tag=b1']);
    assert.deepEqual(h('cseq'), ['7 ACK']);
    // A retransmitted 486 is ACKed again but not passed up.
    tx.receive(res(486));
    assert.equal(sent.length, 3);
    assert.deepEqual(t.responses.map((r) => r.status), [486]);
    clock.advance(31_999);
    assert.equal(t.terminated, 0);
    clock.advance(1);
    assert.equal(t.terminated, 1); // timer D = 32 s
  });

  it('passes retransmitted 2xx up in Accepted (RFC 6026) and sends no ACK itself', () => {
    const { clock, sent, e } = env(true);
    const { t, user } = tu();
    const tx = new ClientInviteTransaction(e, req('INVITE'), user);
    tx.start();
    tx.receive(res(200));
    tx.receive(res(200));
    assert.equal(sent.length, 1);
    assert.deepEqual(t.responses.map((r) => r.status), [200, 200]);
    clock.advance(32_000);
    assert.equal(tx.state, 'terminated');
  });

  it('uses a zero timer D over TCP', () => {
    const { clock, e } = env(true);
    const { t, user } = tu();
    const tx = new ClientInviteTransaction(e, req('INVITE'), user);
    tx.start();
    tx.receive(res(603));
    clock.advance(0);
    assert.equal(t.terminated, 1);
  });
});

describe('INVITE server transaction', () => {
  it('resends the last provisional on an INVITE retransmission', () => {
    const { sent, e } = env(false);
    const tx = new ServerInviteTransaction(e, req('INVITE'), { onTerminated() {} });
    tx.receiveRequest();
    assert.equal(sent.length, 0);
    tx.respond(res(100));
    tx.receiveRequest();
    assert.deepEqual(sent.map((s) => (s.msg as SipResponse).status), [100, 100]);
  });

  it('retransmits a non-2xx final with timer G over UDP until the ACK, then absorbs ACKs for T4', () => {
    const { clock, sent, e } = env(false);
    let terminated = 0;
    const tx = new ServerInviteTransaction(e, req('INVITE'), { onTerminated: () => terminated++ });
    tx.respond(res(486));
    clock.advance(8000);
    assert.deepEqual(sent.map((s) => s.at), [0, 500, 1500, 3500, 7500]);
    tx.receiveAck();
    assert.equal(tx.state, 'confirmed');
    tx.receiveAck();
    clock.advance(4999);
    assert.equal(terminated, 0);
    clock.advance(1);
    assert.equal(terminated, 1);
    assert.equal(sent.length, 5);
  });

  it('gives up after timer H and reports the missing ACK', () => {
    const { clock, sent, e } = env(true);
    let noAck = 0;
    const tx = new ServerInviteTransaction(e, req('INVITE'), { onTerminated() {}, onAckTimeout: () => noAck++ });
    tx.respond(res(404));
    clock.advance(32_000);
    assert.equal(sent.length, 1, 'no retransmission over TCP');
    assert.equal(noAck, 1);
    assert.equal(tx.state, 'terminated');
  });

  it('answers an INVITE retransmission in Completed with the final response', () => {
    const { sent, e } = env(false);
    const tx = new ServerInviteTransaction(e, req('INVITE'), { onTerminated() {} });
    tx.respond(res(487));
    tx.receiveRequest();
    assert.deepEqual(sent.map((s) => (s.msg as SipResponse).status), [487, 487]);
  });

  it('enters Accepted on 2xx, absorbs INVITE retransmissions and lets later 2xx copies through', () => {
    const { clock, sent, e } = env(false);
    const tx = new ServerInviteTransaction(e, req('INVITE'), { onTerminated() {} });
    assert.equal(tx.respond(res(200)), true);
    tx.receiveRequest();
    assert.equal(sent.length, 1);
    assert.equal(tx.respond(res(200)), true);
    assert.equal(tx.respond(res(486)), false);
    assert.equal(sent.length, 2);
    clock.advance(32_000);
    assert.equal(tx.state, 'terminated');
  });
});

describe('non-INVITE server transaction', () => {
  it('absorbs retransmissions in Trying and answers them with the final response in Completed', () => {
    const { clock, sent, e } = env(false);
    let terminated = 0;
    const tx = new ServerNonInviteTransaction(e, req('MESSAGE'), { onTerminated: () => terminated++ });
    tx.receiveRequest();
    assert.equal(sent.length, 0);
    tx.respond(res(200));
    tx.receiveRequest();
    assert.equal(sent.length, 2);
    assert.equal(tx.respond(res(500)), false, 'first final response wins');
    clock.advance(31_999);
    assert.equal(terminated, 0);
    clock.advance(1);
    assert.equal(terminated, 1); // timer J = 64*T1 over UDP
  });

  it('terminates at once over TCP (timer J = 0)', () => {
    const { clock, e } = env(true);
    const tx = new ServerNonInviteTransaction(e, req('MESSAGE'), { onTerminated() {} });
    tx.respond(res(200));
    clock.advance(0);
    assert.equal(tx.state, 'terminated');
  });
});

describe('UAS 2xx retransmission (RFC 3261 13.3.1.4)', () => {
  it('resends the 2xx at T1 doubling to T2 until 64*T1, then reports the missing ACK', () => {
    const clock = new SimulatedClock(0);
    const at: number[] = [];
    let timeout = 0;
    new AckWait(clock, defaultSipTimers, res(200), () => at.push(clock.now()), () => timeout++).start();
    clock.advance(40_000);
    assert.deepEqual(at, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.equal(timeout, 1);
    assert.equal(clock.pending, 0);
  });

  it('stops when the ACK arrives', () => {
    const clock = new SimulatedClock(0);
    let n = 0;
    let timeout = 0;
    const w = new AckWait(clock, defaultSipTimers, res(200), () => n++, () => timeout++);
    w.start();
    clock.advance(600);
    w.stop();
    clock.advance(40_000);
    assert.equal(n, 1);
    assert.equal(timeout, 0);
  });
});

describe('transaction keys', () => {
  it('makes branches with the magic cookie and at least 64 random bits', () => {
    const a = newBranch();
    assert.match(a, /^z9hG4bK[A-Za-z0-9_-]{16,}$/);
    assert.notEqual(a, newBranch());
  });

  it('matches an ACK to its INVITE server transaction and a CANCEL separately', () => {
    const via = { transport: 'UDP', host: 'A.example.com', port: 5060, params: { branch: 'z9hG4bK1' } };
    assert.equal(serverKey(via, 'ACK'), serverKey(via, 'INVITE'));
    assert.notEqual(serverKey(via, 'CANCEL'), serverKey(via, 'INVITE'));
    assert.equal(serverKey({ ...via, params: { branch: 'old' } }, 'INVITE'), undefined);
  });

  it('refuses new entries when the table is full', () => {
    const t = new TransactionTable<number>(1);
    assert.equal(t.add('a', 1), true);
    assert.equal(t.add('b', 2), false);
    t.delete('a', 3);
    assert.equal(t.size, 1);
    t.delete('a', 1);
    assert.equal(t.size, 0);
  });
});
