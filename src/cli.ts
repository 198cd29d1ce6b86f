/**
 * The `parley` command: parses flags, loads the configuration (defaults < --config file <
 * PARLEY_* environment < flags), starts the server and stops it cleanly on SIGINT/SIGTERM;
 * or, given `rooms ...` / `mailboxes ...`, administers a running server (src/cli/admin.ts).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, describeOptions, loadConfig, options, readConfigFile } from './config.js';
import { createLogger } from './actors/logger.js';
import { startServer } from './server.js';
import { describeAdminCommands, isAdminCommand, runAdmin } from './cli/admin.js';

const USAGE = `Usage: parley [options]                  start the server
       parley rooms|mailboxes COMMAND ...   administer a running server

Parley, a chat application server for SIP operators: MSRP chat rooms and offline messaging.
Runs with embedded defaults; every option may also be set in a JSON file or the environment.

Options:
  --config FILE                JSON file with any of the keys below by field name
                               (dataDir, sipListen, msrpListen, httpListen, domains, ...)
${describeOptions()}
  --demo                       also run a scripted demo over SIP/MSRP (watch it in the visualizer)
  --help                       print this help and exit
  --version                    print the version and exit

Precedence: flags > environment > --config file > defaults.

Administration of a running server, over its admin HTTP API at --http-listen:
${describeAdminCommands()}
  Run "parley rooms --help" or "parley rooms create --help" for commands and options.
  Exit codes: 0 done; 1 the server refused, failed or could not be reached; 2 usage.
`;

/** Splits `--flag value` / `--flag=value` pairs; unknown flags are an error. */
export function parseArgs(argv: readonly string[]): { flags: Record<string, string>; config?: string; help: boolean; version: boolean; demo: boolean } {
  const known = new Set(options.map((o) => o.flag));
  const flags: Record<string, string> = {};
  let config: string | undefined;
  let help = false;
  let version = false;
  let demo = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--help' || name === '-h') help = true;
    else if (name === '--version') version = true;
    else if (name === '--demo') demo = true;
    else if (name === '--config' || known.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new ConfigError(name, undefined, 'missing value');
      if (name === '--config') config = value;
      else flags[name] = value;
    } else throw new ConfigError(name, inline ?? null, 'unknown option (see parley --help)');
  }
  return { flags, config, help, version, demo };
}

export async function main(argv: readonly string[]): Promise<void> {
  if (isAdminCommand(argv)) {
    process.exitCode = await runAdmin(argv);
    return;
  }
  let args: ReturnType<typeof parseArgs>;
  let config: ReturnType<typeof loadConfig>;
  try {
    args = parseArgs(argv);
    if (args.help) {
      process.stdout.write(USAGE);
      return;
    }
    if (args.version) {
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`parley ${pkg.version}\n`);
      return;
    }
    const file = args.config === undefined ? undefined : readConfigFile(args.config);
    config = loadConfig({ file, env: process.env, flags: args.flags });
  } catch (err) {
    process.stderr.write(`parley: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }

  const logger = createLogger(config.logLevel);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, { logger });
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    process.exitCode = 1;
    return;
  }
  const demo = args.demo ? await (await import('./demo/index.js')).startDemo(server, logger) : undefined;
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'stopping');
    Promise.resolve(demo?.stop())
      .then(() => server.stop())
      .then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
