/**
 * End to end in real headless Chromium: the page lists rooms, follows one live while
 * participants come and go, draws its statechart with the active state highlighted, and
 * shows the snapshots around an event. Participants are moved by a `RoomDriver` that
 * dispatches domain events to the supervisor on a simulated clock (300 rooms in a moment, due
 * times to the millisecond); visualizer-sip.test.ts does the same over real SIP and MSRP
 * against a whole server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { setup } from 'xstate';
import type { ActorKind } from '../../src/actors/kind.js';
import { roomKind } from '../../src/actors/roomKind.js';
import { dispatchingDriver, startVisualizer, type RoomDriver, type VisualizerFixture } from '../transport/http/fixture.js';
import { clockTime, current, eventually, launchChromium, openPage, text, type WatchedPage } from './page.js';

// Sorts before the `sip:room-NNN` rooms, so it is the first row once the search is cleared.
const ROOM = 'sip:design-review@conf.example.com';
const SHOT = 'artifacts/visualizer-dispatch.png';

/** A kind with nested, parallel and delayed states, as the mailbox and offline kinds will have. */
const shiftKind: ActorKind = {
  name: 'shift',
  version: 1,
  input: () => ({}),
  summary: () => 'nested test machine',
  machine: setup({ types: { events: {} as { type: 'GO' } | { type: 'T' } | { type: 'R' } } }).createMachine({
    id: 'shift',
    initial: 'waiting',
    states: {
      waiting: { after: { 90_000: 'gone' }, on: { GO: 'busy' } },
      busy: {
        type: 'parallel',
        states: {
          left: { initial: 'x', states: { x: { on: { T: 'y' } }, y: {} } },
          right: { initial: 'u', states: { u: { on: { R: 'v' } }, v: {} } },
        },
      },
      gone: { type: 'final' },
    },
  }),
};

const makeDriver = (f: VisualizerFixture): RoomDriver => dispatchingDriver(f.rt.supervisor, f.rt.clock);

describe('visualizer in headless Chromium', () => {
  let f: VisualizerFixture;
  let drive: RoomDriver;
  let browser: Browser;
  let page: WatchedPage;

  before(async () => {
    f = await startVisualizer({ kinds: [roomKind(), shiftKind] });
    drive = makeDriver(f);
    // Other rooms, so the list has something to page through.
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const room = `sip:room-${String(i + j).padStart(3, '0')}@conf.example.com`;
          await drive.join(room, `user${i + j}`);
          if ((i + j) % 3 !== 0) await drive.ack(room, `user${i + j}`);
        }),
      );
    }
    browser = await launchChromium();
    page = await openPage(browser);
  });

  after(async () => {
    await browser?.close();
    await f?.close();
  });

  it('lists the rooms, virtualized, and finds one by key as it is created', async () => {
    await page.goto(`${f.server.url}/`);
    await page.locator('#conn[data-state="live"]').waitFor();
    await page.locator('.row[data-kind="room"]').first().waitFor();
    const rendered = await page.locator('.row').count();
    assert.ok(rendered > 5 && rendered < 60, `only visible rows are in the DOM (${rendered} of 300)`);
    await eventually(async () => assert.equal(await text(page, '#list-foot'), '200 loaded · scroll for more'));
    await page.locator('#list').evaluate((v) => (v.scrollTop = v.scrollHeight));
    await eventually(async () => assert.equal(await text(page, '#list-foot'), '300 loaded'));
    assert.ok((await page.locator('.row').count()) < 60, 'still only the visible rows after paging');

    await page.fill('#q', 'review');
    await eventually(async () => assert.equal(await text(page, '#list-foot'), 'No actor matches.'));
    f.rt.clock.advance(1500);
    await drive.join(ROOM, 'alice');
    const row = page.locator(`.row[data-key="${ROOM}"]`);
    await row.waitFor();
    await eventually(async () => {
      assert.equal(await text(page, `.row[data-key="${ROOM}"] .state`), 'open');
      assert.equal(await text(page, `.row[data-key="${ROOM}"] .summary`), '1 participant · 1 timer');
    });
  });

  it('opens the room chart with the active state highlighted, and follows it live as participants come and go', async () => {
    await page.locator(`.row[data-key="${ROOM}"]`).click();
    await page.locator('#chart svg.statechart').waitFor();
    for (const id of ['conference.idle', 'conference.open', 'conference.closed']) await page.locator(`#chart g.state[data-id="${id}"]`).waitFor();
    await eventually(async () => assert.deepEqual(await current(page), ['conference.open']));
    assert.match(await text(page, '#chart'), /JOIN \[mayCreate\]/);
    assert.match(await text(page, '#chart'), /always \[isEmptyAdhoc\]/);
    const due = clockTime(f.rt.clock.now() + 5000);
    await eventually(async () => assert.equal(await text(page, '#timers .timer'), `ACK_TIMEOUTack:dlg-alice${due} (in 5.0 s)`));

    f.rt.clock.advance(2100);
    await drive.leave(ROOM, 'alice');
    await eventually(async () => {
      assert.deepEqual(await current(page), ['conference.closed']);
      assert.equal(await text(page, '#d-state'), 'closed');
      assert.equal(await text(page, '#timers'), 'None.');
    });

    f.rt.clock.advance(3400);
    await drive.join(ROOM, 'bob');
    await eventually(async () => {
      assert.deepEqual(await current(page), ['conference.open'], 'a join reopens the room');
      assert.equal(await text(page, `.row[data-key="${ROOM}"] .state`), 'open');
    });
    f.rt.clock.advance(180);
    await drive.ack(ROOM, 'bob');
    f.rt.clock.advance(4250);
    await drive.join(ROOM, 'carol');
    await eventually(async () => {
      const types = await page.locator('#timeline .tl-item').evaluateAll((li) => li.map((x) => x.getAttribute('data-type')));
      assert.deepEqual(types.slice(0, 4), ['JOIN', 'ACK_RECEIVED', 'JOIN', 'created']);
      assert.match(await text(page, '#d-summary'), /2 participants/);
    });
  });

  it('shows the snapshot before and after an event picked in the timeline', async () => {
    // The JOIN that re-created the room: from `idle` with nobody to `open` with Bob expected.
    await page.locator('#timeline .tl-item[data-type="JOIN"]').nth(1).click();
    await page.locator('#snapshot .json.before pre').waitFor();
    const beforeText = await text(page, '#snapshot .json.before pre');
    assert.match(beforeText, /"value": "idle"/);
    assert.match(beforeText, /"participants": \{\}/);
    assert.match(beforeText, /"policy": \{…\}/, 'what did not change is folded');
    const changed = await page.locator('#snapshot .json.after pre .chg').allTextContents();
    assert.ok(changed.some((l) => l.includes('"value": "open"')));
    assert.ok(changed.some((l) => l.includes('"status": "expected"')));
    assert.match(await text(page, '#snapshot .json.event pre'), /"type": "JOIN"/);
    await page.locator('#snap-title button', { hasText: 'show all' }).click();
    const afterJson = JSON.parse(await text(page, '#snapshot .json.after pre'));
    assert.equal(afterJson.value, 'open');
    assert.equal(afterJson.context.participants['dlg-bob'].status, 'expected');
    assert.deepEqual(afterJson.context.policy, JSON.parse(await text(page, '#snapshot .json.before pre')).context.policy);
    await page.locator('#snap-title button', { hasText: 'fold unchanged' }).click();

    // The whole list again, for the screenshot: the room is its first row.
    await page.fill('#q', '');
    await eventually(async () => {
      assert.equal(await text(page, '#list-foot'), '200 loaded · scroll for more');
      assert.equal(await text(page, '.row.selected .key'), ROOM);
    });
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: SHOT });
  });

  it('shows a participant dropped by its ACK timer when the clock reaches it', async () => {
    await page.locator('#snap-title button', { hasText: 'back to context' }).click();
    f.rt.clock.advance(5000);
    await eventually(async () => {
      assert.equal(await text(page, '#timeline .tl-item .tl-type'), 'ACK_TIMEOUT');
      assert.equal(await text(page, '#timers'), 'None.');
      assert.match(await text(page, '#d-summary'), /^1 participant$/);
      assert.deepEqual(await current(page), ['conference.open']);
    });
    assert.deepEqual(page.errors, []);
  });

  it('draws nested and parallel states and delayed transitions, highlighting every active leaf', async () => {
    await f.rt.supervisor.dispatch('shift', 'w1', { type: 'GO' }, { create: true });
    await f.rt.supervisor.dispatch('shift', 'w1', { type: 'T' });
    // A link to one actor: the selection lives in the URL hash.
    await page.goto(`${f.server.url}/visualize/#shift/w1`);
    await page.locator('#chart g.state.parallel[data-id="shift.busy"]').waitFor();
    assert.equal(await page.locator('#chart g.state.region').count(), 2);
    assert.match(await text(page, '#chart'), /after 90 s/);
    await eventually(async () => assert.deepEqual(await current(page), ['shift.busy.left.y', 'shift.busy.right.u']));
    const active = await page.locator('#chart g.state.active').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-id')));
    assert.deepEqual(active, ['shift', 'shift.busy', 'shift.busy.left', 'shift.busy.left.y', 'shift.busy.right', 'shift.busy.right.u']);
    await f.rt.supervisor.dispatch('shift', 'w1', { type: 'R' });
    await eventually(async () => assert.deepEqual(await current(page), ['shift.busy.left.y', 'shift.busy.right.v']));
    await page.screenshot({ path: 'artifacts/visualizer-nested.png' });
  });
});
