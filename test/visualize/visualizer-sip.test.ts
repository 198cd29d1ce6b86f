/**
 * End to end in real headless Chromium against a whole Parley (every application, on a
 * simulated clock), with participants that join over the real protocols: INVITE with an MSRP
 * offer from a second SIP stack, ACK, an MSRP connection from a second MSRP endpoint, CPIM
 * chat, BYE, a kick by REFER (the demo's RoomPhone). The page finds the room, its highlighted
 * state follows the joins and leaves, the timeline shows the snapshots around the kick, and
 * the ACK timer of a joiner who never ACKs fires when the test moves the room's clock.
 *
 * The screenshot goes to artifacts/visualizer.png; `PARLEY_UPDATE_SCREENSHOT=1` also copies it
 * to docs/visualizer.png (the README's picture).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { SimulatedClock } from '../../src/clock.js';
import { CallRouter } from '../../src/demo/context.js';
import { RoomPhone, type PhoneDeps } from '../../src/demo/roomPhone.js';
import type { MsrpEndpoint } from '../../src/transport/msrp/endpoint.js';
import { createSipStack, type SipStack } from '../../src/transport/sip/stack.js';
import { tempDir } from '../helpers/runtime.js';
import { DOMAIN, logger, msrpClientEndpoint, startParley, testConfig, uriOf, type Parley } from '../app/room/fixture.js';
import { clockTime, current, eventually, launchChromium, openPage, text, timelineTypes, type WatchedPage } from './page.js';

const ROOM = `sip:standup@${DOMAIN}`;
const OTHER = `sip:coffee@${DOMAIN}`;
const SHOT = 'artifacts/visualizer.png';
const row = (key: string) => `.row[data-key="${key}"]`;

describe('visualizer in headless Chromium, rooms joined over SIP and MSRP', () => {
  const dir = tempDir('parley-viz-sip-');
  const clock = new SimulatedClock(Date.parse('2026-12-01T09:30:00.000Z'));
  const phones: RoomPhone[] = [];
  let p: Parley;
  let ua: SipStack;
  let msrp: MsrpEndpoint;
  let deps: PhoneDeps;
  let browser: Browser;
  let page: WatchedPage;
  /** A participant of `room` (default the standup room) over the real protocols. */
  const phone = (user: string, room = ROOM) => {
    const ph = new RoomPhone(deps, user, 'example.com', room, user[0].toUpperCase() + user.slice(1));
    phones.push(ph);
    return ph;
  };
  let alice: RoomPhone;
  let bob: RoomPhone;
  let carol: RoomPhone;
  let dave: RoomPhone;

  before(async () => {
    // alice may remove participants (an ad-hoc room has no owner of its own).
    p = await startParley(testConfig(dir.path, { roomModerators: [uriOf('alice')] }), clock);
    ua = await createSipStack({ host: '127.0.0.1', port: 0, logger });
    const calls = new CallRouter();
    ua.onRequest((req) => calls.handle(req));
    msrp = await msrpClientEndpoint();
    deps = { ua, msrp, calls, parley: { host: '127.0.0.1', port: p.sipPort, transport: 'udp' }, logger };
    browser = await launchChromium();
    page = await openPage(browser);
  });

  after(async () => {
    await browser?.close();
    for (const ph of phones) ph.close();
    await msrp?.close();
    await ua?.close();
    await p?.server.stop();
    dir.remove();
  });

  it('lists a room created by a participant over SIP/MSRP and opens its chart with the active state', async () => {
    alice = phone('alice');
    await alice.join();
    const erin = phone('erin', OTHER);
    await erin.join();
    await phone('frank', OTHER).join();
    assert.equal(await erin.say('Coffee?'), 200);
    // And a mailbox, so that the list has more than rooms: a MESSAGE for a user with no contact.
    const stored = await ua.sendRequest(
      { method: 'MESSAGE', uri: 'sip:carol@parley.example', headers: [{ name: 'from', value: `<${uriOf('alice')}>` }, { name: 'content-type', value: 'text/plain' }], body: 'Stand-up at 9:30' },
      { destination: deps.parley },
    );
    assert.equal(stored.status, 202);

    await page.goto(`http://127.0.0.1:${p.server.addresses.http.port}/`);
    await page.locator('#conn[data-state="live"]').waitFor();
    await page.locator(row(ROOM)).waitFor();
    await eventually(async () => {
      assert.equal(await text(page, `${row(ROOM)} .state`), 'open');
      assert.equal(await text(page, `${row(ROOM)} .summary`), '1 participant');
      assert.equal(await text(page, `${row(OTHER)} .summary`), '2 participants');
    });
    await page.locator(row(ROOM)).click();
    await page.locator('#chart svg.statechart').waitFor();
    await eventually(async () => assert.deepEqual(await current(page), ['conference.open']));
    assert.deepEqual(await timelineTypes(page), ['ACK_RECEIVED', 'JOIN', 'created']);
  });

  it('moves the highlighted state when the last participant leaves and another joins over SIP', async () => {
    clock.advance(1200);
    assert.equal(await alice.leave(), 200);
    await eventually(async () => {
      assert.deepEqual(await current(page), ['conference.closed']);
      assert.equal(await text(page, '#d-state'), 'closed');
      assert.equal(await text(page, `${row(ROOM)} .state`), 'closed');
    });

    clock.advance(2500);
    bob = phone('bob');
    // The INVITE alone: the room reopens with bob expected and waits for his ACK.
    assert.equal(await bob.invite(), 200);
    const due = clockTime(clock.now() + 5000);
    await eventually(async () => {
      assert.deepEqual(await current(page), ['conference.open'], 'the join reopened the room');
      assert.equal(await text(page, '#d-state'), 'open');
      assert.equal(await text(page, `${row(ROOM)} .state`), 'open');
      assert.match(await text(page, '#timers .timer'), new RegExp(`^ACK_TIMEOUTack:\\S+${due.replace(/\./g, '\\.')} \\(in 5\\.0 s\\)$`));
    });
    clock.advance(150);
    bob.ack();
    await bob.connect();
    await eventually(async () => {
      assert.equal(await text(page, '#timers'), 'None.');
      assert.deepEqual((await timelineTypes(page)).slice(0, 3), ['ACK_RECEIVED', 'JOIN', 'created']);
    });
  });

  it('follows the room as it fills, chats, and a moderator removes someone by REFER', async () => {
    clock.advance(3000);
    carol = phone('carol');
    await carol.join();
    clock.advance(2000);
    alice = phone('alice');
    await alice.join();
    clock.advance(1500);
    assert.equal(await alice.say('Good morning! Stand-up time.'), 200);
    await bob.nickname('bobby');
    assert.equal(await bob.say('Morning. The relay review is done.'), 200);
    await eventually(async () => assert.deepEqual(carol.chat().map((h) => h.text), ['Good morning! Stand-up time.', 'Morning. The relay review is done.']));

    clock.advance(2000);
    dave = phone('dave');
    assert.equal(await dave.invite(), 200, 'dave is answered; his ACK never comes');
    clock.advance(1000);
    const mallory = phone('mallory');
    await mallory.join();
    assert.equal(await mallory.say('CHEAP SIP TRUNKS!!!'), 200);
    clock.advance(1000);
    const kick = await alice.kick(mallory.uri);
    assert.equal(kick.status, 202);
    assert.equal(await kick.outcome, 'SIP/2.0 200 OK', "the REFER's final NOTIFY reports the room's BYE");
    assert.match(await mallory.removed, /Removed from the room/);
    await eventually(async () => {
      assert.equal((await timelineTypes(page))[0], 'KICK');
      assert.equal(await text(page, '#d-summary'), '4 participants');
      assert.equal(await page.locator('#timers .timer').count(), 1, "dave's ACK timer");
      assert.equal(await text(page, `${row(ROOM)} .summary`), '4 participants · 1 timer');
    });
    assert.ok(bob.heard.some((h) => h.text === `${uriOf('mallory')} was removed from the room`));
  });

  it('opens the timeline: the snapshots before and after the kick', async () => {
    await page.locator('#timeline .tl-item[data-type="KICK"]').click();
    await page.locator('#snapshot .json.before pre').waitFor();
    assert.match(await text(page, '#snapshot .json.event pre'), /"type": "KICK"/);
    assert.match(await text(page, '#snapshot .json.event pre'), /"target": "sip:mallory@example\.com"/);
    assert.match(await text(page, '#snapshot .json.before pre'), /sip:mallory@example\.com/);
    assert.doesNotMatch(await text(page, '#snapshot .json.after pre'), /sip:mallory@example\.com/);
    await page.locator('#snap-title button', { hasText: 'back to context' }).click();
    await eventually(async () => assert.match(await text(page, '#snapshot'), /"status": "expected"/));

    // The picture: the room with its participants, the chart, the timeline, dave's ACK timer.
    await page.fill('#q', '');
    await eventually(async () => assert.equal(await text(page, '.row.selected .key'), ROOM));
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: SHOT });
    if (process.env.PARLEY_UPDATE_SCREENSHOT === '1') copyFileSync(SHOT, 'docs/visualizer.png');
  });

  it("drops the joiner who never ACKed when the room's clock reaches his ACK timer", async () => {
    clock.advance(5000);
    assert.match(await dave.removed, /ACK not received/);
    await eventually(async () => {
      assert.equal((await timelineTypes(page))[0], 'ACK_TIMEOUT');
      assert.equal(await text(page, '#timers'), 'None.');
      assert.equal(await text(page, '#d-summary'), '3 participants');
      assert.deepEqual(await current(page), ['conference.open']);
    });
    assert.deepEqual(page.errors, []);
  });
});
