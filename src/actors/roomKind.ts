/**
 * The room actor kind: a conference machine keyed by the room URI.
 */
import type { ActorKind } from './kind.js';
import type { ActorRecord } from './store.js';
import { conferenceMachine, DEFAULT_HISTORY_SIZE, type ConferenceContext, type ConferenceInput } from '../machines/conference.js';

/** The room actor kind's name. */
export const ROOM_KIND = 'room';

export function roomKind(defaults: Omit<ConferenceInput, 'room'> = {}): ActorKind {
  return {
    name: ROOM_KIND,
    machine: conferenceMachine,
    // 2: `historySize` is always in the context (rooms of version 1 may lack it).
    version: 2,
    input: (key): ConferenceInput => ({ ...defaults, room: key }),
    migrate: (record: ActorRecord): ActorRecord | undefined => {
      if (record.machineVersion !== 1) return undefined;
      const c = record.context as Omit<ConferenceContext, 'historySize'> & { historySize?: number };
      return { ...record, machineVersion: 2, context: { ...c, historySize: c.historySize ?? defaults.historySize ?? DEFAULT_HISTORY_SIZE } };
    },
    summary: (ctx) => {
      const c = ctx as ConferenceContext;
      const n = Object.keys(c.participants).length;
      return `${n} participant${n === 1 ? '' : 's'}${c.isStatic ? ', static' : ''}`;
    },
  };
}
