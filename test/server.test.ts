import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/runtime.js';

const CLI = fileURLToPath(new URL('./fixtures/cliMain.ts', import.meta.url));

function message(port: number, to: string, callId: string): string {
  const body = 'hello while you were out';
  return [
    `MESSAGE sip:${to} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:alice@parley.example>;tag=a1`,
    `To: <sip:${to}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 MESSAGE',
    'Content-Type: text/plain',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

test('parley starts with every port 0, logs what it bound, serves SIP and HTTP, and stops on SIGTERM', async () => {
  const dir = tempDir();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--sip-listen', '127.0.0.1:0', '--msrp-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'], {
    env: { ...process.env, PARLEY_DATA_DIR: dir.path, PARLEY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const sock = createSocket('udp4');
  try {
    const lines = createInterface({ input: child.stdout! });
    const logs: Array<Record<string, unknown>> = [];
    let listening: Record<string, any> | undefined;
    for await (const line of lines) {
      const rec = JSON.parse(line) as Record<string, any>;
      logs.push(rec);
      if (rec.msg === 'parley listening') {
        listening = rec;
        break;
      }
    }
    assert.ok(listening, 'the server logged its addresses');
    const sipPort: number = listening.sip.udp;
    assert.ok(sipPort > 0 && listening.msrp.port > 0 && listening.http.startsWith('http://127.0.0.1:'));
    assert.ok(listening.applications.includes('mailbox'));

    // A MESSAGE for an offline local user is stored: 202 Accepted.
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    const answered = once(sock, 'message');
    sock.send(message(sock.address().port, 'bob@parley.example', 'srv-test-1'), sipPort, '127.0.0.1');
    const [reply] = (await answered) as [Buffer];
    assert.match(reply.toString(), /^SIP\/2\.0 202 /);

    // The HTTP server lists the actor kinds and the new mailbox.
    const kinds = (await (await fetch(`${listening.http}/api/kinds`)).json()) as unknown;
    assert.match(JSON.stringify(kinds), /mailbox/);
    const page = await fetch(`${listening.http}/api/actors?kind=mailbox`);
    assert.match(await page.text(), /bob@parley\.example/);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    sock.close();
    if (child.exitCode === null) child.kill('SIGKILL');
    dir.remove();
  }
});

test('a bad configuration value stops the start, naming the key and the value', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--sip-listen', 'nowhere'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(err, /--sip-listen="nowhere"/);
});
