/**
 * readJson: the JSON body reader of the admin API, over a real socket. One test per limit:
 * a declared Content-Length over the limit and a chunked body that grows past it both get
 * 413 (an answer, not a reset connection); the content type and the JSON itself are checked.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { pino } from 'pino';
import { readJson } from '../../../src/transport/http/body.js';
import { sendJson } from '../../../src/transport/http/respond.js';
import { createHttpServer, type HttpServer } from '../../../src/transport/http/server.js';

const LIMIT = 1000;

/** Sends `chunks` (chunked transfer unless `length` is given) and reads the JSON answer. */
function post(url: string, chunks: string[], headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('readJson', () => {
  let server: HttpServer;
  before(async () => {
    server = await createHttpServer({
      listen: { port: 0 },
      logger: pino({ level: 'silent' }),
      routes: [{ method: 'POST', path: '/echo', handler: async (req, res) => sendJson(res, 200, { got: (await readJson(req, LIMIT)) ?? null }) }],
    });
  });
  after(async () => {
    await server.close();
  });

  it('parses a JSON body sent in several chunks', async () => {
    const r = await post(`${server.url}/echo`, ['{"a":', '[1,2', ']}']);
    assert.deepEqual(r, { status: 200, body: { got: { a: [1, 2] } } });
  });

  it('answers 413 for a declared Content-Length over the limit, before reading it', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(LIMIT) });
    const r = await post(`${server.url}/echo`, [body], { 'content-length': String(body.length) });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.message, `request body over ${LIMIT} bytes`);
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const r = await post(`${server.url}/echo`, ['{"pad":"', 'x'.repeat(600), 'x'.repeat(600), '"}']);
    assert.equal(r.status, 413);
  });

  it('answers 415 for a body that is not application/json, 400 for broken JSON; an empty body is undefined', async () => {
    assert.equal((await post(`${server.url}/echo`, ['a=1'], { 'content-type': 'application/x-www-form-urlencoded' })).status, 415);
    assert.equal((await post(`${server.url}/echo`, ['a=1'], { 'content-type': 'text/plain' })).status, 415);
    const broken = await post(`${server.url}/echo`, ['{"a"']);
    assert.equal(broken.status, 400);
    assert.match(broken.body.error.message, /^request body is not valid JSON/);
    assert.deepEqual(await post(`${server.url}/echo`, []), { status: 200, body: { got: null } });
    assert.equal((await post(`${server.url}/echo`, ['{}'], { 'content-type': 'application/json; charset=utf-8' })).status, 200);
  });
});
