/**
 * The admin API refuses what a web page could send it: a Host that DNS rebinding could have
 * pointed at loopback, and a cross-site Origin. The CLI, curl and same-origin requests pass.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startAdminServer, type AdminFixture } from './fixture.js';

function call(port: number, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin API request guard', () => {
  let f: AdminFixture;
  let port: number;
  before(async () => {
    f = await startAdminServer();
    port = f.server.addresses.http.port;
  });
  after(async () => {
    await f.close();
  });

  it('answers 403 for a Host name other than localhost (DNS rebinding)', async () => {
    for (const path of ['/api/admin/rooms', '/api/admin/mailboxes']) {
      const r = await call(port, 'GET', path, { host: `evil.example:${port}` });
      assert.equal(r.status, 403, path);
      assert.match(r.body.error.message, /Host "evil\.example:\d+"/);
    }
    const del = await call(port, 'DELETE', `/api/admin/rooms/${encodeURIComponent('sip:a@b.example')}`, { host: 'rebound.example' });
    assert.equal(del.status, 403, 'refused before anything is looked up');
  });

  it('takes IP literals and localhost as Host', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      assert.equal((await call(port, 'GET', '/api/admin/rooms', { host })).status, 200, host);
    }
  });

  it('answers 403 for a cross-site Origin and takes a same-origin one', async () => {
    const cross = await call(port, 'DELETE', '/api/admin/mailboxes/sip%3Abob%40parley.example', { host: `127.0.0.1:${port}`, origin: 'http://evil.example' });
    assert.equal(cross.status, 403);
    assert.match(cross.body.error.message, /cross-site Origin http:\/\/evil\.example/);
    assert.equal((await call(port, 'GET', '/api/admin/rooms', { host: `127.0.0.1:${port}`, origin: 'null' })).status, 403);
    assert.equal((await call(port, 'GET', '/api/admin/rooms', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).status, 200);
  });
});
