/**
 * The root logger. pino with a synchronous destination: an asynchronous one loses pending
 * lines on `process.exit()` and on an uncaught exception (PACKAGES.md), and Parley's logs
 * must explain a crash. Actors get `logger.child({ actor: kind, key })` from the supervisor.
 */
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { app: 'parley' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
