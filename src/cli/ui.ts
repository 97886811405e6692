/**
 * Terminal concerns in one place: whether to colour, the stderr logger
 * (consola, one line per message, never a stack trace), and the progress
 * indicator (stderr, TTY only).
 */
import { createConsola } from "consola/basic";

/** Colour only on a terminal, and never when NO_COLOR is set (any value, per no-color.org) or TERM=dumb. */
export function colourEnabled(stream: { isTTY?: boolean } = process.stdout): boolean {
  const env = process.env;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

const ANSI = /\x1b\[[0-9;]*m/g;
export function stripAnsi(s: string): string {
  return s.replace(ANSI, "");
}

export interface Paint {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  gray(s: string): string;
  bold(s: string): string;
}

export function paint(on: boolean): Paint {
  const c = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { red: c(31, 39), green: c(32, 39), yellow: c(33, 39), gray: c(90, 39), bold: c(1, 22) };
}

/** Escape control characters so a message stays one line whatever it quotes. */
export function oneLine(s: string): string {
  return s.replace(/\r?\n/g, " | ").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

const logger = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  formatOptions: { date: false, colors: colourEnabled(process.stderr), compact: true },
});

/** Messages for people go to stderr; results go to stdout. Always one line. */
export const log = {
  error(msg: string): void {
    logger.error(oneLine(msg));
  },
  warn(msg: string): void {
    logger.warn(oneLine(msg));
  },
  info(msg: string): void {
    logger.info(oneLine(msg));
  },
};

/** "[3/40] rule-id" on stderr, rewritten in place; only on a TTY and not with --quiet. */
export class Progress {
  private readonly on: boolean;
  private shown = false;
  private last = 0;
  constructor(private readonly total: number, quiet: boolean, private readonly verb: string) {
    this.on = !quiet && process.stderr.isTTY === true && total > 1;
  }
  tick(n: number, what: string): void {
    if (!this.on) return;
    const now = Date.now();
    if (this.shown && now - this.last < 50 && n < this.total) return;
    this.last = now;
    this.shown = true;
    const cols = process.stderr.columns || 80;
    const line = `[${n}/${this.total}] ${this.verb} ${what}`.slice(0, Math.max(10, cols - 1));
    process.stderr.write(`\r\x1b[K${line}`);
  }
  done(): void {
    if (this.shown) process.stderr.write("\r\x1b[K");
    this.shown = false;
  }
}
