#!/usr/bin/env -S node --max-semi-space-size=64
// The `parley` executable: runs the compiled CLI (built by `npm run build`, which `npm ci` runs via `prepare`).
// --max-semi-space-size=64: a young generation big enough that the actor snapshots an event
// replaces die young; with V8's default (16 MB) they are promoted and old-space collections
// follow (bench/runtime.ts, 1,000 rooms: 32k -> 38k context-changing events/s, three runs each).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('parley: dist/ is missing; run `npm run build` (or `npm ci`) first\n');
  process.exit(1);
}
const { main } = await import(cli.href);
await main(process.argv.slice(2));
