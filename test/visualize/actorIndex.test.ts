import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ActorIndex, type IndexedRecord } from '../../src/actors/actorIndex.js';
import { InspectionStream, type InspectionRecord } from '../../src/actors/inspection.js';

const view = (value: string) => ({ value, status: 'active', context: { n: value } });
const event = (key: string, at: number, from: string, to: string): InspectionRecord => ({
  type: 'actor.event', kind: 'room', key, at, event: { type: `E${at}` }, before: view(from), after: view(to), effects: [],
});
const tick = () => new Promise((r) => setImmediate(r));

describe('ActorIndex', () => {
  it('keeps the last `perActor` events of an actor with their snapshots, oldest first', async () => {
    const s = new InspectionStream();
    const idx = new ActorIndex(s, { perActor: 3 });
    for (let i = 1; i <= 5; i++) s.publish(event('a', i, `s${i - 1}`, `s${i}`));
    await tick();
    const tl = idx.recent('room', 'a');
    assert.deepEqual(tl.map((e) => [e.seq, e.type, e.value]), [[3, 'E3', 's3'], [4, 'E4', 's4'], [5, 'E5', 's5']]);
    assert.deepEqual(tl[0].before, view('s2'));
    assert.deepEqual(idx.recent('room', 'b'), []);
    idx.close();
  });

  it('forgets the least recently active actor past `maxActors`', async () => {
    const s = new InspectionStream();
    const idx = new ActorIndex(s, { maxActors: 2 });
    s.publish(event('a', 1, 'x', 'y'));
    s.publish(event('b', 2, 'x', 'y'));
    s.publish(event('a', 3, 'y', 'z'));
    s.publish(event('c', 4, 'x', 'y'));
    await tick();
    assert.equal(idx.recent('room', 'b').length, 0);
    assert.equal(idx.recent('room', 'a').length, 2);
    assert.equal(idx.recent('room', 'c').length, 1);
    idx.close();
  });

  it('remembers the state an actor stopped in until it is created again', async () => {
    const s = new InspectionStream();
    const idx = new ActorIndex(s);
    s.publish(event('a', 1, 'open', 'closed'));
    s.publish({ type: 'actor.stopped', kind: 'room', key: 'a', at: 1, reason: 'done' });
    await tick();
    assert.equal(idx.stopped('room', 'a')?.state?.value, 'closed');
    s.publish({ type: 'actor.created', kind: 'room', key: 'a', at: 2, restored: false, state: view('idle') });
    await tick();
    assert.equal(idx.stopped('room', 'a'), undefined);
    assert.deepEqual(idx.recent('room', 'a').map((e) => e.kind), ['event', 'stopped', 'created']);
    idx.close();
  });

  it('fans records out to listeners with the timeline sequence numbers, and reports its own losses', async () => {
    const s = new InspectionStream();
    const idx = new ActorIndex(s, { queueLimit: 2 });
    const got: IndexedRecord[] = [];
    const lost: number[] = [];
    idx.listen({ record: (r) => got.push(r), lost: (n) => lost.push(n) });
    for (let i = 1; i <= 5; i++) s.publish(event('a', i, 'x', 'y'));
    await tick();
    assert.deepEqual(lost, [3]);
    assert.deepEqual(got.map((r) => [r.seq, r.record.at]), [[1, 4], [2, 5]]);
    assert.deepEqual(idx.recent('room', 'a').map((e) => e.seq), [1, 2]);
    idx.close();
  });
});
