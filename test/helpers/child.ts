/**
 * A test fixture in a child process (`fork` with tsx), driven over IPC, that a test can
 * SIGKILL at any moment and start again on the same data directory: test/actors/crash.test.ts
 * (test/fixtures/supervisorChild.ts) and test/app/offline/crash.test.ts
 * (test/fixtures/serverChild.ts). Both fixtures run on a SimulatedClock that only the parent
 * moves, so a durable timer's due time after the restart is asserted, not waited for. And
 * the server fixtures the room and mailbox crash tests SIGKILL mid-burst (`spawnServerFixture`).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';

export interface FixtureChild {
  readonly child: ChildProcess;
  /** The first message that `pred` accepts, received already or to come; rejects if the child exits first. */
  next(pred: (m: any) => boolean): Promise<any>;
}

/** Forks `file` with `args`; its stderr goes to the test's, its stdout nowhere. */
export function forkFixture(file: string, args: readonly string[]): FixtureChild {
  const child = fork(file, [...args], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const inbox: any[] = [];
  const waiters: Array<{ pred: (m: any) => boolean; resolve: (m: any) => void; reject: (e: Error) => void }> = [];
  child.on('message', (m) => {
    const w = waiters.findIndex((x) => x.pred(m));
    if (w >= 0) waiters.splice(w, 1)[0].resolve(m);
    else inbox.push(m);
  });
  child.on('exit', (code, signal) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`the child exited (${signal ?? code}) before answering`));
  });
  return {
    child,
    next: (pred) =>
      new Promise((resolve, reject) => {
        const i = inbox.findIndex(pred);
        if (i >= 0) resolve(inbox.splice(i, 1)[0]);
        else if (child.exitCode !== null || child.signalCode !== null) reject(new Error('the child has exited'));
        else waiters.push({ pred, resolve, reject });
      }),
  };
}

/**
 * Spawns the server fixture `file` (tsx) on `dataDir`; `port` resolves once it prints
 * `PORT <n>` (its SIP port) and rejects if it exits first. Its stderr goes to the test's.
 */
export function spawnServerFixture(file: string, dataDir: string): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(process.execPath, ['--import', 'tsx', file, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error('server exited')));
  });
  return { child, port };
}
