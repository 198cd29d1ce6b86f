/**
 * Parley's configuration: one typed object with documented defaults, read from (lowest to
 * highest precedence) the defaults, a JSON file (`--config FILE`), environment variables
 * (`PARLEY_*`) and command-line flags. A bad value stops the start with an error naming the
 * key and the value.
 */
import { readFileSync } from 'node:fs';
import { parseUri } from './transport/sip/uri.js';

/** `host:port`; port 0 means "pick a free port" (the server logs what it bound). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** LMDB environment directory. */
  readonly dataDir: string;
  /** SIP over UDP and TCP. */
  readonly sipListen: ListenAddress;
  /** MSRP listener for sessions where Parley is passive. */
  readonly msrpListen: ListenAddress;
  /** Admin API and visualizer (read-only pages); keep it on localhost. */
  readonly httpListen: ListenAddress;
  /** SIP domains whose users Parley serves (mailboxes, offline sessions). */
  readonly domains: readonly string[];
  /** Domains whose users are chat rooms. */
  readonly conferenceDomains: readonly string[];
  /** Addresses and CIDR networks allowed to send SIP requests; empty = everyone. */
  readonly trustedPeers: readonly string[];
  readonly logLevel: LogLevel;
  /** Resident actors idle this long are passivated (ms). */
  readonly idleMs: number;
  /** Most actors kept in memory at once. */
  readonly maxResident: number;
  /** msilo `max_messages`: most stored messages per user; 0 = unlimited. */
  readonly mailboxMaxMessages: number;
  /** msilo `check_time` (s): retry period for failed deliveries. */
  readonly mailboxCheckTime: number;
  /** msilo `clean_period`: the expiry sweep runs every clean_period x check_time. */
  readonly mailboxCleanPeriod: number;
  /** msilo `expire_time` (s): lifetime of a stored message. */
  readonly mailboxExpireTime: number;
  /** msilo `add_date`: prefix the stored date to delivered text bodies. */
  readonly mailboxAddDate: boolean;
  /** msilo `from_address`: when set, the sender is told the user is offline, from this URI. */
  readonly mailboxNotifyFrom: string;
  /** Offline chat sessions: grace window (s) from the answer to Parley's BYE. */
  readonly offlineGraceTime: number;
  /** Offline chat sessions: the greeting sent to the caller. */
  readonly offlineGreeting: string;
  /** Offline chat sessions: greeting per domain (`{"example.com": "..."}`), over `offlineGreeting`. */
  readonly offlineGreetings: Readonly<Record<string, string>>;
  /** Header the proxy's failure route adds to an INVITE Parley must answer for an offline user; empty = none. */
  readonly offlineMarkerHeader: string;
  /** Offline chat sessions: most messages taken in one session. */
  readonly offlineMaxMessages: number;
  /** Message-Account of message-waiting (RFC 3842) and the fetch address; empty = `sip:offline@<first domain>`. */
  readonly messageAccount: string;
  /** Also PUBLISH message-waiting (RFC 3903) to this presence server, `sip:host[:port][;transport=tcp]`; empty = off. */
  readonly messageWaitingPublishTo: string;
  /** Chat rooms: ms a joiner has to ACK the room's 200 before being dropped (RFC 4579 leaves it to the focus). */
  readonly roomAckTimeoutMs: number;
  /** Chat rooms: messages kept and replayed to newcomers unless a static room sets its own; 0 = none. */
  readonly roomHistorySize: number;
  /** Chat rooms, default policy (static rooms set their own): who may create an ad-hoc room (URIs, `@domain`, `*`). */
  readonly roomCreateAllow: readonly string[];
  readonly roomCreateDeny: readonly string[];
  /** Who may join a room by default. */
  readonly roomJoinAllow: readonly string[];
  readonly roomJoinDeny: readonly string[];
  /** Who may remove participants from any room by default (RFC 4579 5.11). */
  readonly roomModerators: readonly string[];
}

export const defaults: Config = {
  dataDir: './data',
  sipListen: { host: '127.0.0.1', port: 5060 },
  msrpListen: { host: '127.0.0.1', port: 2855 },
  httpListen: { host: '127.0.0.1', port: 8080 },
  domains: ['parley.example'],
  conferenceDomains: ['conference.parley.example'],
  trustedPeers: [],
  logLevel: 'info',
  idleMs: 300_000,
  maxResident: 200_000,
  mailboxMaxMessages: 0,
  mailboxCheckTime: 30,
  mailboxCleanPeriod: 5,
  mailboxExpireTime: 259_200,
  mailboxAddDate: false,
  mailboxNotifyFrom: '',
  offlineGraceTime: 90,
  offlineGreeting: 'I am offline but you can type a message',
  offlineGreetings: {},
  offlineMarkerHeader: 'X-Parley-Offline',
  offlineMaxMessages: 100,
  messageAccount: '',
  messageWaitingPublishTo: '',
  roomAckTimeoutMs: 5000,
  roomHistorySize: 50,
  roomCreateAllow: ['*'],
  roomCreateDeny: [],
  roomJoinAllow: ['*'],
  roomJoinDeny: [],
  roomModerators: [],
};

/** Thrown for a bad configuration value; `key` is the name the user wrote. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    why: string,
  ) {
    super(`configuration ${key}=${JSON.stringify(value)}: ${why}`);
    this.name = 'ConfigError';
  }
}

type Kind = 'string' | 'optional' | 'uri' | 'address' | 'list' | 'level' | 'int' | 'count' | 'bool' | 'map';

interface Option {
  readonly field: keyof Config;
  readonly env: string;
  readonly flag: string;
  readonly kind: Kind;
  readonly help: string;
}

/** Every option once: its field, environment variable, flag, type and help line. */
export const options: readonly Option[] = [
  { field: 'dataDir', env: 'PARLEY_DATA_DIR', flag: '--data-dir', kind: 'string', help: 'LMDB data directory' },
  { field: 'sipListen', env: 'PARLEY_SIP_LISTEN', flag: '--sip-listen', kind: 'address', help: 'SIP UDP+TCP address host:port' },
  { field: 'msrpListen', env: 'PARLEY_MSRP_LISTEN', flag: '--msrp-listen', kind: 'address', help: 'MSRP TCP address host:port' },
  { field: 'httpListen', env: 'PARLEY_HTTP_LISTEN', flag: '--http-listen', kind: 'address', help: 'admin API and visualizer address host:port' },
  { field: 'domains', env: 'PARLEY_DOMAINS', flag: '--domains', kind: 'list', help: 'local SIP domains, comma separated' },
  { field: 'conferenceDomains', env: 'PARLEY_CONFERENCE_DOMAINS', flag: '--conference-domains', kind: 'list', help: 'chat room domains, comma separated' },
  { field: 'trustedPeers', env: 'PARLEY_TRUSTED_PEERS', flag: '--trusted-peers', kind: 'list', help: 'addresses/CIDRs allowed to send SIP (empty: all)' },
  { field: 'logLevel', env: 'PARLEY_LOG_LEVEL', flag: '--log-level', kind: 'level', help: 'fatal|error|warn|info|debug|trace|silent' },
  { field: 'idleMs', env: 'PARLEY_IDLE_MS', flag: '--idle-ms', kind: 'int', help: 'passivate actors idle this many ms' },
  { field: 'maxResident', env: 'PARLEY_MAX_RESIDENT', flag: '--max-resident', kind: 'int', help: 'most actors kept in memory' },
  { field: 'mailboxMaxMessages', env: 'PARLEY_MAILBOX_MAX_MESSAGES', flag: '--mailbox-max-messages', kind: 'count', help: 'stored messages per user, 0 = unlimited (msilo max_messages)' },
  { field: 'mailboxCheckTime', env: 'PARLEY_MAILBOX_CHECK_TIME', flag: '--mailbox-check-time', kind: 'int', help: 'seconds between delivery retries (msilo check_time)' },
  { field: 'mailboxCleanPeriod', env: 'PARLEY_MAILBOX_CLEAN_PERIOD', flag: '--mailbox-clean-period', kind: 'int', help: 'expiry sweep every N check times (msilo clean_period)' },
  { field: 'mailboxExpireTime', env: 'PARLEY_MAILBOX_EXPIRE_TIME', flag: '--mailbox-expire-time', kind: 'int', help: 'seconds a stored message lives (msilo expire_time)' },
  { field: 'mailboxAddDate', env: 'PARLEY_MAILBOX_ADD_DATE', flag: '--mailbox-add-date', kind: 'bool', help: 'prefix the stored date to text bodies (msilo add_date)' },
  { field: 'mailboxNotifyFrom', env: 'PARLEY_MAILBOX_NOTIFY_FROM', flag: '--mailbox-notify-from', kind: 'uri', help: 'tell senders the user is offline, from this URI; empty = off' },
  { field: 'offlineGraceTime', env: 'PARLEY_OFFLINE_GRACE_TIME', flag: '--offline-grace-time', kind: 'int', help: 'seconds an offline chat session stays open' },
  { field: 'offlineGreeting', env: 'PARLEY_OFFLINE_GREETING', flag: '--offline-greeting', kind: 'string', help: 'greeting of an offline chat session' },
  { field: 'offlineGreetings', env: 'PARLEY_OFFLINE_GREETINGS', flag: '--offline-greetings', kind: 'map', help: 'greeting per domain, JSON {"domain": "text"}' },
  { field: 'offlineMarkerHeader', env: 'PARLEY_OFFLINE_MARKER_HEADER', flag: '--offline-marker-header', kind: 'optional', help: 'header marking an INVITE to answer for an offline user; empty = none' },
  { field: 'offlineMaxMessages', env: 'PARLEY_OFFLINE_MAX_MESSAGES', flag: '--offline-max-messages', kind: 'int', help: 'most messages taken in one offline chat session' },
  { field: 'messageAccount', env: 'PARLEY_MESSAGE_ACCOUNT', flag: '--message-account', kind: 'uri', help: 'message-waiting Message-Account and fetch address; empty = sip:offline@<first domain>' },
  { field: 'messageWaitingPublishTo', env: 'PARLEY_MESSAGE_WAITING_PUBLISH_TO', flag: '--message-waiting-publish-to', kind: 'uri', help: 'also PUBLISH message-waiting to this presence server (sip:host:port); empty = off' },
  { field: 'roomAckTimeoutMs', env: 'PARLEY_ROOM_ACK_TIMEOUT_MS', flag: '--room-ack-timeout-ms', kind: 'int', help: 'ms a joiner has to ACK before the room drops it' },
  { field: 'roomHistorySize', env: 'PARLEY_ROOM_HISTORY_SIZE', flag: '--room-history-size', kind: 'count', help: 'messages a room keeps for newcomers (static rooms may set their own)' },
  { field: 'roomCreateAllow', env: 'PARLEY_ROOM_CREATE_ALLOW', flag: '--room-create-allow', kind: 'list', help: 'who may create ad-hoc rooms: URIs, @domains or *' },
  { field: 'roomCreateDeny', env: 'PARLEY_ROOM_CREATE_DENY', flag: '--room-create-deny', kind: 'list', help: 'who may not create ad-hoc rooms (wins over allow)' },
  { field: 'roomJoinAllow', env: 'PARLEY_ROOM_JOIN_ALLOW', flag: '--room-join-allow', kind: 'list', help: 'who may join rooms without a policy of their own' },
  { field: 'roomJoinDeny', env: 'PARLEY_ROOM_JOIN_DENY', flag: '--room-join-deny', kind: 'list', help: 'who may not join them (wins over allow)' },
  { field: 'roomModerators', env: 'PARLEY_ROOM_MODERATORS', flag: '--room-moderators', kind: 'list', help: 'who may remove participants from those rooms' },
];

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses `host:port` or `[v6]:port`; port 0-65535. */
export function parseAddress(key: string, text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(key, text, 'expected host:port with a port from 0 to 65535');
  return { host: m[1] ?? m[2], port };
}

function convert(o: Option, key: string, raw: unknown): Config[keyof Config] {
  switch (o.kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw new ConfigError(key, raw, 'expected a non-empty string');
      return raw;
    case 'optional':
      if (typeof raw !== 'string') throw new ConfigError(key, raw, 'expected a string');
      return raw.trim();
    case 'uri': {
      // Checked here, before anything listens: a bad URI stops the start like any bad value.
      if (typeof raw !== 'string') throw new ConfigError(key, raw, 'expected a sip: URI or nothing');
      const text = raw.trim();
      const u = text === '' ? undefined : parseUri(text);
      if (text !== '' && (u === undefined || (u.scheme !== 'sip' && u.scheme !== 'sips') || u.host === '')) throw new ConfigError(key, raw, 'expected a sip: URI with a host, or nothing');
      return text;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw new ConfigError(key, raw, 'expected true or false');
    case 'address':
      if (typeof raw === 'object' && raw !== null && 'host' in raw && 'port' in raw) return parseAddress(key, `${String(raw.host).includes(':') ? `[${String(raw.host)}]` : String(raw.host)}:${String(raw.port)}`);
      if (typeof raw !== 'string') throw new ConfigError(key, raw, 'expected host:port');
      return parseAddress(key, raw);
    case 'list': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
      if (items === undefined || items.some((x) => typeof x !== 'string')) throw new ConfigError(key, raw, 'expected a comma-separated list');
      return items.map((x: string) => x.trim()).filter((x: string) => x !== '');
    }
    case 'level':
      if (typeof raw !== 'string' || !LEVELS.includes(raw)) throw new ConfigError(key, raw, `expected one of ${LEVELS.join(', ')}`);
      return raw as LogLevel;
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(key, raw, 'expected a positive integer');
      return n;
    }
    case 'map': {
      let v: unknown = raw;
      if (typeof raw === 'string') {
        try {
          v = JSON.parse(raw);
        } catch {
          throw new ConfigError(key, raw, 'expected a JSON object of strings');
        }
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
        throw new ConfigError(key, raw, 'expected a JSON object of strings');
      }
      return Object.fromEntries(Object.entries(v as Record<string, string>).map(([k, x]) => [k.toLowerCase(), x]));
    }
    case 'count': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(key, raw, 'expected an integer, 0 or more');
      return n;
    }
  }
}

/** The JSON object of a `--config` file; a ConfigError naming the file when it cannot be read or parsed. */
export function readConfigFile(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('--config', path, `cannot read JSON: ${(err as Error).message}`);
  }
}

/**
 * Builds the configuration. `file` is the parsed JSON of `--config` (keys are the field
 * names, e.g. `{"sipListen": "0.0.0.0:5060"}`); `env` the process environment; `flags` the
 * flag values by flag name (`{"--sip-listen": "127.0.0.1:0"}`).
 */
export function loadConfig(sources: { file?: Record<string, unknown>; env?: Record<string, string | undefined>; flags?: Record<string, string> }): Config {
  const out: Record<string, unknown> = { ...defaults };
  const known = new Set(options.map((o) => o.field as string));
  for (const k of Object.keys(sources.file ?? {})) {
    if (!known.has(k)) throw new ConfigError(k, sources.file?.[k], `unknown configuration key (known: ${[...known].join(', ')})`);
  }
  for (const o of options) {
    const f = sources.file?.[o.field];
    if (f !== undefined) out[o.field] = convert(o, o.field, f);
    const e = sources.env?.[o.env];
    if (e !== undefined && e !== '') out[o.field] = convert(o, o.env, e);
    const fl = sources.flags?.[o.flag];
    if (fl !== undefined) out[o.field] = convert(o, o.flag, fl);
  }
  return out as unknown as Config;
}

/** One line per option, for `parley --help`. */
export function describeOptions(): string {
  return options
    .map((o) => `  ${`${o.flag} VALUE`.padEnd(28)} ${o.help} (env ${o.env}; default ${formatDefault(defaults[o.field])})`)
    .join('\n');
}

function formatDefault(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.join(',') : 'empty';
  if (typeof v === 'object' && v !== null && !('host' in v)) return Object.keys(v).length ? JSON.stringify(v) : 'empty';
  if (typeof v === 'object' && v !== null && 'host' in v) return `${(v as ListenAddress).host}:${(v as ListenAddress).port}`;
  if (v === '') return 'empty';
  return String(v);
}
