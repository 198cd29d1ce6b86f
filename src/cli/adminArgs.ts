/**
 * Argument parsing for the `parley rooms|mailboxes ...` subcommands: positionals, flags with
 * values (`--owner x` or `--owner=x`, repeatable where the spec says so) and switches. A
 * mistake is a UsageError, which the CLI turns into its message and exit code 2.
 */

/** A command-line mistake: the CLI prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  readonly name: string;
  /** Takes a value (`--limit 10`); otherwise a switch (`--json`). */
  readonly value?: string;
  /** May be given several times; every value is kept in order. */
  readonly repeat?: boolean;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: string;
  /** Positional argument names, all required (`ROOM`). */
  readonly positionals: readonly string[];
  readonly flags: readonly FlagSpec[];
  readonly summary: string;
  /** More lines of help after the flags. */
  readonly details?: string;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Values by flag name (with the dashes); switches have `['']`. */
  readonly flags: ReadonlyMap<string, readonly string[]>;
  readonly help: boolean;
}

/** Flags every admin command takes. */
export const commonFlags: readonly FlagSpec[] = [
  { name: '--http-listen', value: 'HOST:PORT', help: "the server's admin address (else PARLEY_HTTP_LISTEN, --config, 127.0.0.1:8080)" },
  { name: '--config', value: 'FILE', help: 'JSON configuration file, as for the server (its httpListen is used)' },
  { name: '--json', help: "print the server's JSON answer instead of text" },
];

/** Longest single argument accepted (a policy given inline as JSON included). */
const MAX_ARG = 65_536;

export function parseCommand(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const all = [...spec.flags, ...commonFlags];
  const byName = new Map(all.map((f) => [f.name, f]));
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.length > MAX_ARG) throw new UsageError(`argument longer than ${MAX_ARG} characters`);
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const f = byName.get(name);
    if (f === undefined) throw new UsageError(`unknown option ${name} for ${spec.name}`);
    let v = '';
    if (f.value !== undefined) {
      const next = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (next === undefined) throw new UsageError(`${name} needs a value (${f.value})`);
      v = next;
    } else if (eq >= 0) throw new UsageError(`${name} takes no value`);
    const seen = flags.get(name);
    if (seen !== undefined && !f.repeat) throw new UsageError(`${name} given twice`);
    flags.set(name, [...(seen ?? []), v]);
  }
  if (!help) {
    if (positionals.length < spec.positionals.length) throw new UsageError(`missing ${spec.positionals.slice(positionals.length).join(' ')}`);
    if (positionals.length > spec.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[spec.positionals.length])}`);
  }
  return { positionals, flags, help };
}

/** The help text of one command. */
export function commandHelp(group: string, spec: CommandSpec): string {
  const flagLines = [...spec.flags, ...commonFlags].map((f) => `  ${`${f.name}${f.value ? ` ${f.value}` : ''}`.padEnd(26)} ${f.help}${f.repeat ? ' (repeatable)' : ''}`);
  return [
    `Usage: parley ${group} ${spec.name}${spec.positionals.map((p) => ` ${p}`).join('')} [options]`,
    '',
    spec.summary,
    '',
    'Options:',
    ...flagLines,
    '  --help                     print this help',
    ...(spec.details ? ['', spec.details] : []),
    '',
  ].join('\n');
}

/** A flag's single value, or undefined. */
export function one(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0];
}

/** A flag's values with empty ones dropped (`--owner=` alone means "the empty list"); undefined when absent. */
export function list(args: ParsedArgs, name: string): string[] | undefined {
  const v = args.flags.get(name);
  return v === undefined ? undefined : v.filter((x) => x !== '');
}

/** An integer flag within bounds. */
export function intFlag(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const v = one(args, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}`);
  return Number(v);
}

/** `path?k=v&...` with the defined values in the order given; `path` alone when none is. */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}
