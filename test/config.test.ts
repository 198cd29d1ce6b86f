import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, defaults, loadConfig, parseAddress } from '../src/config.js';
import { parseArgs } from '../src/cli.js';

test('defaults apply when nothing is set', () => {
  const c = loadConfig({});
  assert.deepEqual(c, defaults);
  assert.deepEqual(c.sipListen, { host: '127.0.0.1', port: 5060 });
  assert.deepEqual(c.msrpListen, { host: '127.0.0.1', port: 2855 });
  assert.deepEqual(c.httpListen, { host: '127.0.0.1', port: 8080 });
  assert.equal(c.dataDir, './data');
});

test('flags beat the environment, which beats the file', () => {
  const c = loadConfig({
    file: { dataDir: '/f', sipListen: '10.0.0.1:5070', domains: ['a.example'], logLevel: 'warn' },
    env: { PARLEY_DATA_DIR: '/e', PARLEY_SIP_LISTEN: '127.0.0.1:0' },
    flags: { '--data-dir': '/x' },
  });
  assert.equal(c.dataDir, '/x');
  assert.deepEqual(c.sipListen, { host: '127.0.0.1', port: 0 });
  assert.deepEqual(c.domains, ['a.example']);
  assert.equal(c.logLevel, 'warn');
});

test('lists are comma separated and trimmed', () => {
  const c = loadConfig({ env: { PARLEY_DOMAINS: 'a.example, b.example,,', PARLEY_CONFERENCE_DOMAINS: 'conf.a.example' } });
  assert.deepEqual(c.domains, ['a.example', 'b.example']);
  assert.deepEqual(c.conferenceDomains, ['conf.a.example']);
});

test('IPv6 listen addresses use brackets', () => {
  assert.deepEqual(parseAddress('k', '[::1]:5060'), { host: '::1', port: 5060 });
});

test('a bad value stops the start with the key and the value', () => {
  assert.throws(() => loadConfig({ env: { PARLEY_SIP_LISTEN: '127.0.0.1:99999' } }), (e: unknown) => e instanceof ConfigError && e.key === 'PARLEY_SIP_LISTEN' && /99999/.test(e.message));
  assert.throws(() => loadConfig({ flags: { '--log-level': 'loud' } }), /--log-level="loud"/);
  assert.throws(() => loadConfig({ file: { idleMs: -1 } }), /idleMs=-1/);
  assert.throws(() => loadConfig({ file: { sipPort: 5 } }), /sipPort.*unknown configuration key/);
});

test('the command line takes --flag value and --flag=value and refuses unknown flags', () => {
  assert.deepEqual(parseArgs(['--sip-listen', '127.0.0.1:0', '--data-dir=/tmp/x', '--config', 'c.json']).flags, { '--sip-listen': '127.0.0.1:0', '--data-dir': '/tmp/x' });
  assert.equal(parseArgs(['--help']).help, true);
  assert.throws(() => parseArgs(['--nope']), /--nope.*unknown option/);
  assert.throws(() => parseArgs(['--sip-listen']), /missing value/);
});
