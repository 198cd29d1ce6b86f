/**
 * The demo's chat rooms, over real SIP and MSRP against the running server (issue 8 item 5).
 *
 * `roomScenario`, one round: the admin API provisions the static room `standup` with alice as
 * its owner (only owners and moderators may remove someone, and an ad-hoc room has neither
 * unless the configuration names moderators); alice, bob and carol join (INVITE with an MSRP
 * offer, ACK, MSRP connection) and chat; dave's phone never sends its ACK, so the room drops
 * him after its ACK timeout (`roomAckTimeoutMs`, 5 s); mallory joins and spams, alice removes
 * him (REFER with `Refer-To: <sip:mallory@...;method=BYE>`); the others leave and the room is
 * deleted. Then again.
 *
 * `adhocRoomScenario`: erin creates the ad-hoc room `coffee` by joining it, frank joins, they
 * chat and leave, and the room closes with its last participant.
 */
import type { ScenarioContext } from './context.js';
import { RoomPhone } from './roomPhone.js';

/** Runs `body` with a fresh set of phones; whatever happens, none stays in a call. */
async function withPhones(s: ScenarioContext, room: string, body: (phone: (user: string, name: string) => RoomPhone) => Promise<void>): Promise<void> {
  const phones: RoomPhone[] = [];
  const phone = (user: string, name: string) => {
    const p = new RoomPhone(s, user, s.domain, room, name);
    phones.push(p);
    return p;
  };
  try {
    await body(phone);
  } finally {
    // A round cut short (the demo stopping, an error): hang up whoever is still in.
    await Promise.all(phones.map((p) => (p.inCall ? p.leave().catch(() => p.close()) : p.close())));
  }
}

export async function roomScenario(s: ScenarioContext, round: number): Promise<void> {
  const room = `sip:standup@${s.conferenceDomain}`;
  const path = `/api/admin/rooms/${encodeURIComponent(room)}`;
  // Left over from an earlier run (static rooms persist) or a round cut short: start afresh.
  await s.admin.request('DELETE', path).catch(() => undefined);
  await s.admin.request('POST', '/api/admin/rooms', { room, policy: { owners: [`sip:alice@${s.domain}`] }, historySize: 20 });
  s.logger.info({ room, round }, 'demo: room provisioned (owner alice)');
  try {
    await withPhones(s, room, async (phone) => {
      const alice = phone('alice', 'Alice');
      const bob = phone('bob', 'Bob');
      const carol = phone('carol', 'Carol');
      const dave = phone('dave', 'Dave');
      const mallory = phone('mallory', 'Mallory');

      await s.pause(1000);
      await alice.join();
      s.logger.info({ room }, 'demo: alice joined');
      await s.pause(1200);
      await alice.say(`Good morning! Stand-up, round ${round}.`);
      await s.pause(800);
      await bob.join();
      s.logger.info({ room }, 'demo: bob joined');
      await s.pause(1000);
      await bob.nickname('bobby');
      await bob.say('Morning. I finished the MSRP relay review.');
      await s.pause(1200);
      await carol.join();
      s.logger.info({ room }, 'demo: carol joined');
      await s.pause(1000);
      await carol.say('Hi all, still on the SIP trunk migration.');
      await s.pause(1200);

      // Dave's phone loses its ACK: the room drops him when its ACK timer fires.
      const daveStatus = await dave.invite();
      s.logger.info({ room, status: daveStatus }, 'demo: dave joined but his ACK never comes');
      await s.pause(1000);
      await alice.say('Dave, are you there?');
      await s.pause(1500);
      await bob.say('His phone seems stuck.', alice.uri);
      const reason = await s.within(dave.removed, s.ackTimeoutMs + 10_000, 'the room dropping dave');
      s.logger.info({ room, reason }, 'demo: the room dropped dave (no ACK)');
      await s.pause(1500);

      await mallory.join();
      s.logger.info({ room }, 'demo: mallory joined');
      await s.pause(1000);
      await mallory.say('CHEAP SIP TRUNKS!!! best rates, click here');
      await s.pause(1200);
      const kick = await alice.kick(mallory.uri);
      const outcome = await s.within(kick.outcome, 10_000, "the room's answer to the kick");
      s.logger.info({ room, status: kick.status, outcome }, 'demo: alice removed mallory');
      await s.within(mallory.removed, 10_000, 'mallory removed');
      await s.pause(1500);

      await alice.say("That's all for today, thanks!");
      await s.pause(1200);
      await bob.leave();
      s.logger.info({ room }, 'demo: bob left');
      await s.pause(1000);
      await carol.leave();
      s.logger.info({ room }, 'demo: carol left');
      await s.pause(1000);
      await alice.leave();
      s.logger.info({ room }, 'demo: alice left');
      await s.pause(2000);
    });
  } finally {
    await s.admin.request('DELETE', path).catch((err: unknown) => s.logger.warn({ err, room }, 'demo: room not deleted'));
  }
  s.logger.info({ room, round }, 'demo: room deleted');
}

export async function adhocRoomScenario(s: ScenarioContext, round: number): Promise<void> {
  const room = `sip:coffee@${s.conferenceDomain}`;
  await withPhones(s, room, async (phone) => {
    const erin = phone('erin', 'Erin');
    const frank = phone('frank', 'Frank');
    await s.pause(2000);
    await erin.join();
    s.logger.info({ room, round }, 'demo: erin created the ad-hoc room by joining it');
    await s.pause(1500);
    await frank.join();
    await s.pause(1000);
    await erin.say('Coffee?');
    await s.pause(1500);
    await frank.say('Yes, in five minutes.');
    await s.pause(2000);
    await frank.leave();
    await s.pause(1500);
    await erin.leave();
    s.logger.info({ room, round }, 'demo: the ad-hoc room closed with its last participant');
  });
}
