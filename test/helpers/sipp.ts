/**
 * Runs SIPp (`/usr/bin/sipp`) against an in-process stack: one scenario, one call by default,
 * a hard timeout, message trace kept for assertions. Resolves with the exit code (0 = every
 * call succeeded) and the traced messages.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SIPP = '/usr/bin/sipp';

export interface SippRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Contents of the -trace_msg file (every message sent and received). */
  readonly messages: string;
  /** Contents of the -trace_err file. */
  readonly errors: string;
}

export interface SippOptions {
  readonly scenario: string;
  readonly port: number;
  readonly transport: 'u1' | 't1';
  readonly calls?: number;
  readonly rate?: number;
  readonly extra?: readonly string[];
  /** Kill SIPp after this many ms (default 20 s). */
  readonly killAfterMs?: number;
}

/** A port free for both UDP and TCP on 127.0.0.1 (SIPp binds its own local port). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (tcpFree) return port;
  }
}

export function runSipp(o: SippOptions): Promise<SippRun> {
  return freePort().then((local) =>
    spawnSipp(
      [
        `127.0.0.1:${o.port}`,
        '-sf', o.scenario,
        '-m', String(o.calls ?? 1),
        '-r', String(o.rate ?? 10),
        '-t', o.transport,
        '-i', '127.0.0.1',
        '-p', String(local),
        '-timeout', '20s',
        '-timeout_error',
        '-nostdin',
        ...(o.extra ?? []),
      ],
      o.killAfterMs ?? 20_000,
    ).done,
  );
}

/**
 * Starts SIPp with `argv` in a temporary directory, its messages and errors traced there
 * (`-trace_msg`, `-trace_err`), killed after `killAfterMs` when given. `done` resolves when it
 * exits, with its exit code, output and traces; `kill` ends it at once.
 */
export function spawnSipp(argv: readonly string[], killAfterMs?: number): { done: Promise<SippRun>; kill(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const args = [...argv, '-trace_msg', '-message_file', join(dir, 'messages.log'), '-trace_err', '-error_file', join(dir, 'errors.log')];
  const child = spawn(SIPP, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d.toString()));
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const killer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const done = new Promise<SippRun>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      const read = (name: string) => {
        try {
          return readFileSync(join(dir, name), 'utf8');
        } catch {
          return '';
        }
      };
      const run = { code, stdout, stderr, messages: read('messages.log'), errors: read('errors.log') };
      rmSync(dir, { recursive: true, force: true });
      resolve(run);
    }),
  );
  return { done, kill: () => void child.kill('SIGKILL') };
}

/** A readable failure message for assert. */
export function describeRun(r: SippRun): string {
  return `sipp exit ${r.code}\n--- errors ---\n${r.errors}\n--- stderr ---\n${r.stderr.slice(-2000)}\n--- messages ---\n${r.messages.slice(-6000)}`;
}

/**
 * Resolves once something is bound to local UDP `port` (a SIPp UAS is ready before Parley
 * sends to it); Linux /proc/net/udp, polled with a deadline instead of a fixed pause.
 */
export async function udpBound(port: number, ms = 5000): Promise<void> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const bound = () => readFileSync('/proc/net/udp', 'utf8').split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(suffix));
  const end = Date.now() + ms;
  while (!bound()) {
    if (Date.now() > end) throw new Error(`nothing bound UDP port ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
