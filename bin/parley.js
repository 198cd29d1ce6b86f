#!/usr/bin/env node
// The `parley` executable: runs the compiled CLI (built by `npm run build`, which `npm ci` runs via `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('parley: dist/ is missing; run `npm run build` (or `npm ci`) first\n');
  process.exit(1);
}
const { main } = await import(cli.href);
await main(process.argv.slice(2));
