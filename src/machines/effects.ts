/**
 * The effects machines emit, one factory each so every type string is spelled once.
 * Effects are plain data carrying all the executor needs (STYLE.md rule 4); the runtime
 * applies `store.*` ones inside the event's commit and performs the rest after it.
 *
 * `requestRef` names a pending SIP server transaction kept by the transport layer: it is
 * only meaningful while the process that received the request lives, which is the only time
 * a reply to it can be sent anyway.
 */

/** Answer a pending SIP request with a final status (and optional reason phrase). */
export const sipRespond = (requestRef: string, status: number, reason?: string) =>
  ({ type: 'sip.respond', requestRef, status, reason }) as const;

/** Accept a join: 200 OK with the focus SDP answer and `Contact: <room>;isfocus`. */
export const sipAcceptJoin = (requestRef: string, participantId: string) =>
  ({ type: 'sip.acceptJoin', requestRef, participantId }) as const;

/** End a dialog with BYE; `reason` goes in a Reason header (RFC 3326). */
export const sipBye = (dialog: unknown, reason: string) => ({ type: 'sip.bye', dialog, reason }) as const;

/** Send a text notice from the room to some participants' MSRP sessions. */
export const msrpNotice = (room: string, sessions: readonly unknown[], text: string) =>
  ({ type: 'msrp.notice', room, sessions, text }) as const;

/** Close a participant's MSRP session (after a BYE or a drop). */
export const msrpClose = (session: unknown) => ({ type: 'msrp.close', session }) as const;

export type MachineEffect =
  | ReturnType<typeof sipRespond>
  | ReturnType<typeof sipAcceptJoin>
  | ReturnType<typeof sipBye>
  | ReturnType<typeof msrpNotice>
  | ReturnType<typeof msrpClose>;
