/**
 * The admin subcommands of `parley` (`parley rooms ...`, `parley mailboxes ...`): find the
 * running server's admin address the way the server itself would (--http-listen >
 * PARLEY_HTTP_LISTEN > --config file > default), run one command against it, print the
 * answer. Exit codes: 0 done, 1 the server refused or failed or could not be reached, 2 the
 * command line was wrong.
 */
import { ConfigError, loadConfig, readConfigFile } from '../config.js';
import { AdminClient, AdminRequestError, adminBaseUrl } from './adminClient.js';
import { commandHelp, one, parseCommand, UsageError } from './adminArgs.js';
import { mailboxesGroup } from './mailboxesCommand.js';
import { roomsGroup, type CommandGroup } from './roomsCommand.js';

export const adminGroups: readonly CommandGroup[] = [roomsGroup, mailboxesGroup];

export interface AdminIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Record<string, string | undefined>;
}

const defaultIo: AdminIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  env: process.env,
};

/** The lines `parley --help` shows for the admin subcommands. */
export function describeAdminCommands(): string {
  return adminGroups
    .map((g) => `  ${`parley ${g.name} COMMAND`.padEnd(28)} ${g.summary}`)
    .join('\n');
}

function groupHelp(g: CommandGroup): string {
  return [
    `Usage: parley ${g.name} COMMAND [arguments] [options]`,
    '',
    `Administers a running Parley server's ${g.summary.split(':')[0]} through its admin HTTP API.`,
    '',
    'Commands:',
    ...g.commands.map((c) => `  ${`${c.spec.name}${c.spec.positionals.map((p) => ` ${p}`).join('')}`.padEnd(24)} ${c.spec.summary}`),
    '',
    `Run "parley ${g.name} COMMAND --help" for a command's options. Every command takes`,
    '--http-listen HOST:PORT (else PARLEY_HTTP_LISTEN, --config FILE, 127.0.0.1:8080) and --json.',
    '',
    'Exit codes: 0 done; 1 the server refused or failed (its message is printed) or could not',
    'be reached; 2 the command line is wrong.',
    '',
  ].join('\n');
}

/** True when `argv` starts with an admin subcommand (the server is not to be started). */
export function isAdminCommand(argv: readonly string[]): boolean {
  return adminGroups.some((g) => g.name === argv[0]);
}

/** Runs `parley GROUP COMMAND ...`; resolves with the exit code. */
export async function runAdmin(argv: readonly string[], io: AdminIo = defaultIo): Promise<number> {
  const group = adminGroups.find((g) => g.name === argv[0]);
  if (group === undefined) {
    io.err(`parley: unknown command ${JSON.stringify(argv[0])}\n`);
    return 2;
  }
  const name = argv[1];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === undefined) {
      io.err(groupHelp(group));
      return 2;
    }
    io.out(groupHelp(group));
    return 0;
  }
  const command = group.commands.find((c) => c.spec.name === name);
  if (command === undefined) {
    io.err(`parley ${group.name}: unknown command ${JSON.stringify(name)} (commands: ${group.commands.map((c) => c.spec.name).join(', ')})\n`);
    return 2;
  }
  let client: AdminClient;
  let args: ReturnType<typeof parseCommand>;
  try {
    args = parseCommand(argv.slice(2), command.spec);
    if (args.help) {
      io.out(commandHelp(group.name, command.spec));
      return 0;
    }
    client = new AdminClient(adminBaseUrl(addressOf(args, io.env)));
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ConfigError)) throw err;
    io.err(`parley ${group.name} ${name}: ${err.message}\n\n${commandHelp(group.name, command.spec)}`);
    return 2;
  }
  try {
    const { json, text } = await command.run(args, client);
    io.out(args.flags.has('--json') ? JSON.stringify(json, null, 2) + '\n' : text);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`parley ${group.name} ${name}: ${err.message}\n\n${commandHelp(group.name, command.spec)}`);
      return 2;
    }
    if (err instanceof AdminRequestError) {
      io.err(`parley ${group.name} ${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** The server's admin address by the server's own precedence (flags > env > file > default). */
function addressOf(args: ReturnType<typeof parseCommand>, env: Record<string, string | undefined>) {
  const file = one(args, '--config');
  const parsed = file === undefined ? undefined : readConfigFile(file);
  const listen = one(args, '--http-listen');
  return loadConfig({ file: parsed, env, flags: listen !== undefined ? { '--http-listen': listen } : {} }).httpListen;
}
