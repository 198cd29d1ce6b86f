/**
 * Effects: what a machine asks the outside world to do, as plain data emitted with xstate's
 * `emit`. The runtime splits them in two: `store.*` effects are applied inside the event's
 * LMDB transaction (the data and the snapshot commit together); every other effect is
 * performed only after that commit, so nothing is acknowledged before it is durable.
 */
import type { Logger } from 'pino';
import type { Write } from './store.js';

export interface Effect {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The actor an effect comes from, handed to the effect handlers. */
export interface ActorRef {
  readonly kind: string;
  readonly key: string;
  readonly logger: Logger;
}

/** True for effects applied within the commit (`store.putMessage`, `store.deleteMessage`). */
export function isStoreEffect(effect: Effect): boolean {
  return effect.type.startsWith('store.');
}

export interface EffectHandlers {
  /**
   * Turns a `store.*` effect into the writes that commit with the event's snapshot. Called
   * before anything is written: throwing here fails the event with nothing written.
   */
  storeWrites(effect: Effect, actor: ActorRef): readonly Write[];
  /** Performs any other effect after the commit (send a reply, relay a message...). */
  execute(effect: Effect, actor: ActorRef): void;
}
