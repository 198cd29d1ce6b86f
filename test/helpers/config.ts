/** A configuration for tests and benchmarks: every listener on 127.0.0.1 port 0, no log output. */
import { defaults, type Config } from '../../src/config.js';

export function loopbackConfig(dataDir: string, extra: Partial<Config> = {}): Config {
  return {
    ...defaults,
    dataDir,
    sipListen: { host: '127.0.0.1', port: 0 },
    msrpListen: { host: '127.0.0.1', port: 0 },
    httpListen: { host: '127.0.0.1', port: 0 },
    logLevel: 'silent',
    ...extra,
  };
}
