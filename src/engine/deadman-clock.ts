/**
 * The deadman's clock. Production reads the system clock; tests set
 * BULWARK_TEST_CLOCK to an absolute path of a file holding the current time
 * (an ISO-8601 date-time or epoch milliseconds), read afresh at every call,
 * so a test advances time by rewriting one file instead of sleeping, and the
 * detached watcher process sees the same time as the test.
 */
import { readFileSync } from "node:fs";
import { BulwarkError } from "../errors.ts";

/** Something that says what time it is now. */
export interface Clock {
  /** The current time; throws DeadmanClockError when a test clock file is unreadable. */
  now(): Date;
  /** Set when time comes from a test clock file: watchers then poll it often. */
  readonly testFile?: string;
}

/** A test clock file that cannot be read or does not hold a time. */
export class DeadmanClockError extends BulwarkError {
  constructor(file: string, why: string) {
    super(`BULWARK_TEST_CLOCK ${file}: ${why}; expected an ISO-8601 date-time or epoch milliseconds`);
    this.name = "DeadmanClockError";
  }
}

/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };

/** Parse a test clock file's text: ISO-8601 or epoch ms. */
function parseClock(file: string, text: string): Date {
  const s = text.trim();
  const d = /^\d{1,15}$/.test(s) ? new Date(Number(s)) : /^\d{4}-\d{2}-\d{2}T/.test(s) ? new Date(s) : null;
  if (!d || Number.isNaN(d.getTime())) throw new DeadmanClockError(file, `holds ${JSON.stringify(s.slice(0, 40))}`);
  return d;
}

/** The clock for this process: the BULWARK_TEST_CLOCK file when set (an absolute path), else the system clock. */
export function deadmanClock(env: Record<string, string | undefined> = process.env): Clock {
  const file = env.BULWARK_TEST_CLOCK;
  if (file === undefined || file === "") return systemClock;
  if (!file.startsWith("/")) throw new DeadmanClockError(file, "not an absolute path");
  return {
    testFile: file,
    now() {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        throw new DeadmanClockError(file, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
      }
      return parseClock(file, text);
    },
  };
}
