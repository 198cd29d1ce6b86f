/**
 * A real runtime for tests: LMDB in a fresh temp dir, a SimulatedClock, a silent logger and
 * an effect recorder that also notes whether the actor's snapshot was already committed when
 * the effect went out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SimulatedClock } from '../../src/clock.js';
import type { ActorKind } from '../../src/actors/kind.js';
import type { ActorRef, Effect, EffectHandlers } from '../../src/actors/effects.js';
import { Store } from '../../src/actors/store.js';
import { Supervisor, type SupervisorOptions } from '../../src/actors/supervisor.js';

export interface Executed {
  readonly effect: Effect;
  readonly actor: string;
  readonly at: number;
  /** The actor's record was in LMDB (or deleted, for a final state) when the effect ran. */
  readonly committedBefore: boolean;
}

export function tempDir(prefix = 'parley-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestRuntime {
  readonly store: Store;
  readonly clock: SimulatedClock;
  readonly supervisor: Supervisor;
  readonly executed: Executed[];
  readonly stored: Effect[];
  /** Stops the supervisor and closes LMDB (the directory stays, for restarts). */
  close(): Promise<void>;
}

export function createTestRuntime(
  path: string,
  kinds: ActorKind[],
  opts: Partial<SupervisorOptions> & { clock?: SimulatedClock; storeWrites?: EffectHandlers['storeWrites'] } = {},
): TestRuntime {
  const store = new Store({ path });
  const clock = opts.clock ?? new SimulatedClock();
  const executed: Executed[] = [];
  const stored: Effect[] = [];
  const effects: EffectHandlers = {
    storeWrites:
      opts.storeWrites ??
      ((e) => {
        stored.push(e);
        return [];
      }),
    execute(effect: Effect, actor: ActorRef) {
      const rec = store.snapshots.get([actor.kind, actor.key]);
      executed.push({ effect, actor: actor.key, at: clock.now(), committedBefore: rec !== undefined || !supervisor.isResident(actor.kind, actor.key) });
    },
  };
  const supervisor = new Supervisor({ store, clock, logger: pino({ level: 'silent' }), kinds, effects, ...opts });
  supervisor.start();
  return {
    store,
    clock,
    supervisor,
    executed,
    stored,
    async close() {
      await supervisor.stop();
      await store.close();
    },
  };
}
