import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import { memoryLogger } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-msrps-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function selfSigned(name: string): { cert: Buffer; key: Buffer } {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`),
  ], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) };
}

const server = selfSigned('server');
const client = selfSigned('client');

test('msrps: sessions over TLS use msrps paths and exchange messages', async () => {
  const a = new MsrpEndpoint({ listen: { port: 0 }, logger: memoryLogger().logger, tls: { ...server } });
  const b = new MsrpEndpoint({ listen: { port: 0 }, logger: memoryLogger().logger, tls: { ...client, ca: server.cert } });
  await a.start();
  await b.start();
  const sa = a.createSession({ setup: 'passive' });
  const sb = b.createSession({ setup: 'active' });
  assert.match(sa.localUri, /^msrps:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{20};tcp$/);
  sa.setRemote({ path: [sb.localUri] });
  sb.setRemote({ path: [sa.localUri] });
  assert.equal((await sb.connect()).status, 200);
  sa.on('message', (m) => m.accept());
  const body = Buffer.alloc(100_000, 0x5a);
  const got = new Promise<Buffer>((r) => sa.once('message', (m) => r(m.body)));
  assert.equal((await sb.send(body, 'text/plain')).status, 200);
  assert.deepEqual(await got, body);
  await a.close();
  await b.close();
});

test('msrps: a server certificate the client does not trust fails the connect', async () => {
  const a = new MsrpEndpoint({ listen: { port: 0 }, logger: memoryLogger().logger, tls: { ...server } });
  const b = new MsrpEndpoint({ listen: { port: 0 }, logger: memoryLogger().logger, tls: { ...client, ca: client.cert } });
  await a.start();
  await b.start();
  const sa = a.createSession({ setup: 'passive' });
  const sb = b.createSession({ setup: 'active' });
  sa.setRemote({ path: [sb.localUri] });
  sb.setRemote({ path: [sa.localUri] });
  assert.deepEqual(await sb.connect(), { status: 0, reason: 'connection-lost' });
  assert.equal(sa.connection, undefined);
  await a.close();
  await b.close();
});
