/**
 * `parley rooms ...` and `parley mailboxes ...` against a server started in the test (a whole
 * server on 127.0.0.1 port 0, LMDB in a temp dir): most cases run the CLI's entry point in
 * process with captured output; the end-to-end ones spawn `parley` from source, as a user
 * would, and check the address precedence (flag, PARLEY_HTTP_LISTEN, --config) and exit codes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAdmin } from '../../src/cli/admin.js';
import { startAdminServer, storeMessage, type AdminFixture } from '../app/admin/fixture.js';
import { tempDir } from '../helpers/runtime.js';

const CLI = fileURLToPath(new URL('../fixtures/cliMain.ts', import.meta.url));
const DEV = 'sip:dev@conference.parley.example';
const BOB = 'sip:bob@parley.example';

/** Runs the CLI in process; `env` stands for the process environment. */
async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAdmin(argv, { out: (t) => (out += t), err: (t) => (err += t), env });
  return { code, out, err };
}

/** Spawns `parley` from source with `args` and waits for it to exit. */
async function spawnCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, PARLEY_HTTP_LISTEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out, err };
}

describe('parley admin subcommands', () => {
  let f: AdminFixture;
  let listen: string;
  before(async () => {
    f = await startAdminServer();
    listen = `127.0.0.1:${f.server.addresses.http.port}`;
  });
  after(async () => {
    await f.close();
  });

  it('rooms create provisions a static room and prints it', async () => {
    const r = await cli(['rooms', 'create', DEV, '--http-listen', listen, '--owner', 'sip:boss@example.com', '--allow-join', '@example.com', '--allow-join', 'sip:guest@other.example', '--deny-join=sip:mallory@example.com', '--history', '20']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^created\nroom +sip:dev@conference\.parley\.example\nkind +static, open\nhistory +20 messages\nowners +sip:boss@example\.com\nmoderators +-\njoin +allow @example\.com, sip:guest@other\.example; deny sip:mallory@example\.com\n/);
    const shown = (await f.call('GET', `/api/admin/rooms/${encodeURIComponent(DEV)}`)).body;
    assert.equal(shown.static, true);
    assert.deepEqual(shown.policy.owners, ['sip:boss@example.com']);
  });

  it('rooms set-owners and set-policy change only what they are given; --json prints the answer', async () => {
    const owners = await cli(['rooms', 'set-owners', DEV, '--http-listen', listen, '--moderator', 'sip:mod@example.com', '--json']);
    assert.equal(owners.code, 0, owners.err);
    const v = JSON.parse(owners.out);
    assert.deepEqual(v.policy.owners, ['sip:boss@example.com']);
    assert.deepEqual(v.policy.moderators, ['sip:mod@example.com']);
    const policy = await cli(['rooms', 'set-policy', DEV, '--http-listen', listen, '--deny-join=', '--history', '5', '--json']);
    assert.equal(policy.code, 0, policy.err);
    const p = JSON.parse(policy.out);
    assert.deepEqual(p.policy.join, { allow: ['@example.com', 'sip:guest@other.example'], deny: [] });
    assert.equal(p.historySize, 5);
    const file = join(f.dataDir, 'policy.json');
    writeFileSync(file, JSON.stringify({ create: { allow: [] }, owners: ['sip:boss2@example.com'] }));
    const fromFile = await cli(['rooms', 'set-policy', DEV, '--http-listen', listen, `--policy=@${file}`, '--owner', 'sip:boss3@example.com', '--json']);
    assert.equal(fromFile.code, 0, fromFile.err);
    const q = JSON.parse(fromFile.out);
    assert.deepEqual(q.policy.owners, ['sip:boss3@example.com'], 'a flag overrides the same part of --policy');
    assert.deepEqual(q.policy.create, { allow: [], deny: [] });
  });

  it('rooms list and show print readable text', async () => {
    const list = await cli(['rooms', 'list', '--http-listen', listen, '--static']);
    assert.equal(list.code, 0, list.err);
    assert.equal(list.out, `${DEV}  static  open  0 participants  history 5\n`);
    const show = await cli(['rooms', 'show', DEV, '--http-listen', listen]);
    assert.equal(show.code, 0);
    assert.match(show.out, /participants +0\n$/);
  });

  it('exits 1 with the server message when the server refuses (404, 409, 400)', async () => {
    const missing = await cli(['rooms', 'show', 'sip:nobody@conference.parley.example', '--http-listen', listen]);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'parley rooms show: 404: no room sip:nobody@conference.parley.example\n');
    const again = await cli(['rooms', 'create', DEV, '--http-listen', listen]);
    assert.equal(again.code, 1);
    assert.match(again.err, /409: room sip:dev@conference\.parley\.example already exists/);
    const bad = await cli(['rooms', 'create', 'sip:x@conference.parley.example', '--http-listen', listen, '--owner', 'boss']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /400: policy\.owners\[0\]: "boss" is neither/);
  });

  it('exits 2 on a usage mistake, printing the command help; 0 with --help', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['rooms', 'create'], /missing ROOM/],
      [['rooms', 'create', DEV, '--owners', 'x'], /unknown option --owners for create/],
      [['rooms', 'create', DEV, '--history', 'lots'], /--history must be an integer from 0 to 1000/],
      [['rooms', 'set-owners', DEV], /nothing to change/],
      [['rooms', 'list', '--static', '--adhoc'], /exclude each other/],
      [['rooms', 'show', DEV, 'extra'], /unexpected argument "extra"/],
      [['rooms', 'create', DEV, '--policy', '{'], /--policy is not JSON/],
      [['rooms', 'frobnicate'], /unknown command "frobnicate"/],
      [['mailboxes', 'purge', BOB], /give exactly one of --message SEQ or --all/],
      [['rooms', 'list', '--http-listen', 'nowhere'], /--http-listen="nowhere"/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli([...argv, ...(argv.includes('--http-listen') ? [] : ['--http-listen', listen])]);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, message);
      assert.equal(r.out, '');
    }
    const help = await cli(['rooms', 'set-policy', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: parley rooms set-policy ROOM \[options\]/);
    const group = await cli(['mailboxes', '--help']);
    assert.equal(group.code, 0);
    assert.match(group.out, /purge AOR/);
    assert.equal((await cli(['rooms'])).code, 2, 'a group without a command is a usage error');
  });

  it('mailboxes list, show, purge one message, purge all, stats', async () => {
    for (let i = 1; i <= 3; i++) await storeMessage(f, BOB, i);
    const list = await cli(['mailboxes', 'list', '--http-listen', listen]);
    assert.equal(list.out, `${BOB}  3 stored\n`);
    const show = await cli(['mailboxes', 'show', BOB, '--http-listen', listen]);
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /^mailbox  sip:bob@parley\.example\nstate    .*\nstored   3\n  #1  from "Alice" <sip:alice@example\.com>  text\/plain, 7 bytes/);
    assert.match(show.out, /"hello 2"/);
    const one = await cli(['mailboxes', 'purge', BOB, '--message', '2', '--http-listen', listen]);
    assert.equal(one.code, 0, one.err);
    assert.equal(one.out, `deleted message 2 of ${BOB}\n`);
    assert.equal((await cli(['mailboxes', 'purge', BOB, '--message', '2', '--http-listen', listen])).code, 1);
    const stats = await cli(['mailboxes', 'stats', '--http-listen', listen, '--json']);
    assert.equal(JSON.parse(stats.out).stored_messages, 3);
    const all = await cli(['mailboxes', 'purge', BOB, '--all', '--http-listen', listen]);
    assert.equal(all.out, `purged ${BOB} (2 messages)\n`);
    assert.equal((await cli(['mailboxes', 'list', '--http-listen', listen])).out, 'no mailboxes\n');
  });

  it('exits 1 when no server listens at the address', async () => {
    const r = await cli(['rooms', 'list', '--http-listen', '127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot reach the Parley admin API at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });

  it('spawned from source: finds the server by PARLEY_HTTP_LISTEN, by --config, and the flag wins over both', async () => {
    const byEnv = await spawnCli(['rooms', 'list', '--json'], { PARLEY_HTTP_LISTEN: listen });
    assert.equal(byEnv.code, 0, byEnv.err);
    assert.deepEqual(JSON.parse(byEnv.out).rooms.map((r: any) => r.room), [DEV]);
    const dir = tempDir();
    try {
      const config = join(dir.path, 'parley.json');
      writeFileSync(config, JSON.stringify({ httpListen: listen, dataDir: dir.path }));
      const byFile = await spawnCli(['rooms', 'delete', DEV, '--config', config]);
      assert.equal(byFile.code, 0, byFile.err);
      assert.equal(byFile.out, `deleted ${DEV} (0 participants ended)\n`);
      const flagWins = await spawnCli(['rooms', 'show', DEV, '--config', config, '--http-listen', '127.0.0.1:1'], { PARLEY_HTTP_LISTEN: listen });
      assert.equal(flagWins.code, 1);
      assert.match(flagWins.err, /127\.0\.0\.1:1/);
    } finally {
      dir.remove();
    }
  });

  it('spawned from source: exit 2 for usage, and parley --help documents the subcommands', async () => {
    const usage = await spawnCli(['mailboxes', 'purge', BOB, '--http-listen', listen]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /give exactly one of --message SEQ or --all/);
    const help = await spawnCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /parley rooms COMMAND +static chat rooms: create, list, show, delete, set-policy, set-owners/);
    assert.match(help.out, /parley mailboxes COMMAND +offline-message mailboxes: list, show, purge, stats/);
  });
});
