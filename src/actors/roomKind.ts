/**
 * The room actor kind: a conference machine keyed by the room URI.
 */
import type { ActorKind } from './kind.js';
import { conferenceMachine, type ConferenceContext, type ConferenceInput } from '../machines/conference.js';

/** The room actor kind's name. */
export const ROOM_KIND = 'room';

export function roomKind(defaults: Omit<ConferenceInput, 'room'> = {}): ActorKind {
  return {
    name: ROOM_KIND,
    machine: conferenceMachine,
    version: 1,
    input: (key): ConferenceInput => ({ ...defaults, room: key }),
    summary: (ctx) => {
      const c = ctx as ConferenceContext;
      const n = Object.keys(c.participants).length;
      return `${n} participant${n === 1 ? '' : 's'}${c.isStatic ? ', static' : ''}`;
    },
  };
}
