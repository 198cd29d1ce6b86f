/**
 * The offline-session and message-waiting configuration keys: defaults, the per-domain
 * greeting map from a file or a JSON flag, and the errors that name the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeOptions, loadConfig } from '../../../src/config.js';

test('offline defaults: 90 s window, the greeting, the marker header, no account override', () => {
  const c = loadConfig({});
  assert.equal(c.offlineGraceTime, 90);
  assert.equal(c.offlineGreeting, 'I am offline but you can type a message');
  assert.deepEqual(c.offlineGreetings, {});
  assert.equal(c.offlineMarkerHeader, 'X-Parley-Offline');
  assert.equal(c.offlineMaxMessages, 100);
  assert.equal(c.messageAccount, '');
  assert.equal(c.messageWaitingPublishTo, '');
});

test('greetings per domain come from the file as an object or from a flag as JSON, domains lower-cased', () => {
  assert.deepEqual(loadConfig({ file: { offlineGreetings: { 'Example.COM': 'Away' } } }).offlineGreetings, { 'example.com': 'Away' });
  const c = loadConfig({ flags: { '--offline-greetings': '{"a.example":"Gone fishing"}', '--offline-grace-time': '30', '--message-account': 'sip:mail@a.example' } });
  assert.deepEqual(c.offlineGreetings, { 'a.example': 'Gone fishing' });
  assert.equal(c.offlineGraceTime, 30);
  assert.equal(c.messageAccount, 'sip:mail@a.example');
  assert.equal(loadConfig({ flags: { '--offline-marker-header': '' } }).offlineMarkerHeader, '', 'empty flag: no marker header');
});

test('bad offline values name the key', () => {
  assert.throws(() => loadConfig({ flags: { '--offline-greetings': 'not json' } }), (e: unknown) => e instanceof ConfigError && e.key === '--offline-greetings');
  assert.throws(() => loadConfig({ file: { offlineGreetings: { a: 1 } } }), (e: unknown) => e instanceof ConfigError && e.key === 'offlineGreetings');
  assert.throws(() => loadConfig({ env: { PARLEY_OFFLINE_GRACE_TIME: '0' } }), (e: unknown) => e instanceof ConfigError && e.key === 'PARLEY_OFFLINE_GRACE_TIME');
  assert.match(describeOptions(), /--offline-grace-time VALUE/);
});

test('the SIP URIs of message-waiting and sender notification are checked with the configuration', () => {
  const named = (key: string) => (e: unknown) => e instanceof ConfigError && e.key === key;
  assert.throws(() => loadConfig({ flags: { '--message-waiting-publish-to': 'presence.example:5060' } }), named('--message-waiting-publish-to'));
  assert.throws(() => loadConfig({ env: { PARLEY_MESSAGE_ACCOUNT: 'tel:+15551234' } }), named('PARLEY_MESSAGE_ACCOUNT'));
  assert.throws(() => loadConfig({ file: { mailboxNotifyFrom: 'sip:' } }), named('mailboxNotifyFrom'));
  const c = loadConfig({ flags: { '--message-waiting-publish-to': ' sip:127.0.0.1:5070;transport=tcp ', '--mailbox-notify-from': '' } });
  assert.equal(c.messageWaitingPublishTo, 'sip:127.0.0.1:5070;transport=tcp');
  assert.equal(c.mailboxNotifyFrom, '');
});
