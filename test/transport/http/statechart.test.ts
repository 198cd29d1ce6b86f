import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMachine, setup, not } from 'xstate';
import { activeIds, formatDelay, statechartOf, statePaths } from '../../../src/transport/http/statechart.js';

const machine = setup({ guards: { ready: () => true }, delays: { grace: 90_000 } }).createMachine({
  id: 'm',
  initial: 'waiting',
  states: {
    waiting: { after: { 5000: 'gone', grace: { target: 'gone', guard: 'ready' } }, on: { GO: { target: 'busy', guard: not('ready') } } },
    busy: {
      type: 'parallel',
      states: {
        left: { initial: 'x', states: { x: { on: { T: 'y' } }, y: {} } },
        right: { initial: 'u', states: { u: { always: 'v' }, v: {} } },
      },
      onDone: 'gone',
    },
    gone: { type: 'final' },
  },
});

describe('statechart description', () => {
  it('describes nested and parallel states with their initial children', () => {
    const c = statechartOf(machine);
    assert.deepEqual(c.children.map((n) => [n.id, n.type]), [['m.waiting', 'atomic'], ['m.busy', 'parallel'], ['m.gone', 'final']]);
    const busy = c.children[1];
    assert.deepEqual(busy.children.map((n) => [n.id, n.type, n.initial]), [
      ['m.busy.left', 'compound', ['m.busy.left.x']],
      ['m.busy.right', 'compound', ['m.busy.right.u']],
    ]);
  });

  it('labels delayed transitions with their delay, named delays by name, and guards', () => {
    const waiting = statechartOf(machine).children[0];
    assert.deepEqual(waiting.transitions.map((t) => [t.kind, t.label, t.targets]), [
      ['event', 'GO [not(ready)]', ['m.busy']],
      ['after', 'after 5 s', ['m.gone']],
      ['after', 'after grace [ready]', ['m.gone']],
    ]);
  });

  it('labels eventless and done transitions', () => {
    const c = statechartOf(machine);
    assert.deepEqual(c.children[1].children[1].children[0].transitions.map((t) => t.label), ['always']);
    assert.deepEqual(c.children[1].transitions.map((t) => t.label), ['onDone']);
  });

  it('formats delays in the unit a reader expects', () => {
    assert.deepEqual([250, 1500, 5000, 90_000, 300_000, 7_200_000].map(formatDelay), ['250 ms', '1500 ms', '5 s', '90 s', '5 min', '2 h']);
  });

  it('turns state values into active ids and dotted paths', () => {
    const c = statechartOf(machine);
    const value = { busy: { left: 'y', right: 'v' } };
    assert.deepEqual(activeIds(c, value), ['m', 'm.busy', 'm.busy.left', 'm.busy.left.y', 'm.busy.right', 'm.busy.right.v']);
    assert.deepEqual(statePaths(value), ['busy.left.y', 'busy.right.v']);
    assert.deepEqual(activeIds(statechartOf(createMachine({ id: 'z', initial: 'a', states: { a: {} } })), 'a'), ['z', 'z.a']);
  });
});
