/**
 * What the supervisor needs to know about one kind of actor (room, mailbox, offline
 * session): its machine, how to start a new one, and how to read records written by an
 * earlier version of that machine.
 */
import type { AnyStateMachine, EventObject } from 'xstate';
import type { ActorRecord } from './store.js';

export interface ActorKind {
  /** Short stable name, first element of the actor key: `room`, `mailbox`, `offline`. */
  readonly name: string;
  readonly machine: AnyStateMachine;
  /** Bump when the context layout changes; records of older versions go through `migrate`. */
  readonly version: number;
  /** Input for a new actor created by `event` (`initialTransition(machine, input)`). */
  input(key: string, event: EventObject): unknown;
  /**
   * Turns a record of an older machine version into the current layout, or returns
   * undefined when it cannot (the actor is then started afresh and the fact logged).
   */
  migrate?(record: ActorRecord): ActorRecord | undefined;
  /** One line for lists (visualizer, admin API): "3 participants", "12 stored". */
  summary?(context: unknown): string;
}
