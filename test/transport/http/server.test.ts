import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createHttpServer } from '../../../src/transport/http/server.js';
import { HttpError, sendJson, safeStringify } from '../../../src/transport/http/respond.js';
import { Router } from '../../../src/transport/http/router.js';

const silent = pino({ level: 'silent' });

describe('HTTP server and router', () => {
  it('binds to 127.0.0.1 on a free port by default when given port 0', async () => {
    const s = await createHttpServer({ listen: { port: 0 }, logger: silent });
    try {
      assert.equal(s.address.host, '127.0.0.1');
      assert.ok(s.address.port > 0);
      assert.equal(s.url, `http://127.0.0.1:${s.address.port}`);
    } finally {
      await s.close();
    }
  });

  it('routes by method and pattern, decoding parameters after splitting', async () => {
    const s = await createHttpServer({
      listen: { port: 0 },
      logger: silent,
      routes: [{ method: 'GET', path: '/things/:kind/:key', handler: (_q, res, { params, query }) => sendJson(res, 200, { ...params, x: query.get('x') }) }],
    });
    try {
      const r = await fetch(`${s.url}/things/room/${encodeURIComponent('sip:a/b@c')}?x=1`);
      assert.deepEqual(await r.json(), { kind: 'room', key: 'sip:a/b@c', x: '1' });
      s.addRoutes({ method: 'GET', path: '/later', handler: (_q, res) => sendJson(res, 200, { later: true }) });
      assert.deepEqual(await (await fetch(`${s.url}/later`)).json(), { later: true });
    } finally {
      await s.close();
    }
  });

  it('answers 404, 405 with Allow, 400 for bad encoding, the status of an HttpError, and 500 for a throw', async () => {
    const s = await createHttpServer({
      listen: { port: 0 },
      logger: silent,
      routes: [
        { method: 'GET', path: '/p/:x', handler: () => undefined },
        { method: 'GET', path: '/teapot', handler: () => { throw new HttpError(418, 'short and stout'); } },
        { method: 'GET', path: '/boom', handler: async () => { throw new Error('secret detail'); } },
      ],
    });
    try {
      assert.equal((await fetch(`${s.url}/nope`)).status, 404);
      const r405 = await fetch(`${s.url}/teapot`, { method: 'DELETE' });
      assert.equal(r405.status, 405);
      assert.equal(r405.headers.get('allow'), 'GET');
      assert.equal((await fetch(`${s.url}/p/%E0%A4%A`)).status, 400);
      const tea = await fetch(`${s.url}/teapot`);
      assert.deepEqual([tea.status, await tea.json()], [418, { error: { status: 418, message: 'short and stout' } }]);
      const boom = await fetch(`${s.url}/boom`);
      assert.equal(boom.status, 500);
      assert.doesNotMatch(await boom.text(), /secret/);
    } finally {
      await s.close();
    }
  });

  it('tries exact routes before wildcard routes added earlier', () => {
    const r = new Router([{ method: 'GET', path: '/*', handler: () => undefined }]);
    r.add({ method: 'GET', path: '/api/x', handler: () => undefined });
    const m = r.match('GET', '/api/x');
    assert.ok(m.found && m.route.path === '/api/x');
    const w = r.match('GET', '/a/b/c');
    assert.ok(w.found && w.rest === 'a/b/c');
  });

  it('serializes bigint and cycles without throwing, and shared objects in full', () => {
    const shared = { n: 1 };
    const cyc: Record<string, unknown> = { a: shared, b: shared, big: 10n };
    cyc.self = cyc;
    assert.equal(safeStringify(cyc), '{"a":{"n":1},"b":{"n":1},"big":"10","self":"[cycle]"}');
  });
});
