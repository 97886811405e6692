/**
 * Terminal concerns in one place: whether to colour, the stderr logger
 * (consola, one line per message, never a stack trace), and the progress
 * indicator (stderr, TTY only).
 */
import type { ConsolaInstance } from "consola/basic";
import { writeSync } from "node:fs";

/**
 * isatty(FD), asked of Bun's tty_wrap binding (the same libc call node:tty's
 * isatty makes): loading node:tty builds node:stream and fs.WriteStream, ~2 ms
 * of a start that only wants to know whether to colour. node:tty if the
 * binding is ever missing.
 */
function isatty(fd: number): boolean {
  try {
    const b = (process as unknown as { binding(name: string): { isTTY?: (fd: number) => boolean } }).binding("tty_wrap");
    if (typeof b.isTTY === "function") return b.isTTY(fd) === true;
  } catch {
    // no such binding: node:tty below
  }
  return (require("node:tty") as typeof import("node:tty")).isatty(fd);
}

/**
 * TEXT written whole to FD (1 or 2), synchronously, without Node streams:
 * process.stdout/process.stderr are built on first access (node:stream,
 * node:events, fs.WriteStream), a few ms of a start that only writes strings.
 * Partial writes are continued and EAGAIN (a non-blocking pipe whose reader
 * is slow) is waited out, so nothing is lost or reordered; stdout and stderr
 * both go through here, so their order is the order of the calls. A closed
 * stdout (`bulwark history | head`) ends the program quietly with the exit
 * code so far, as the stream's EPIPE handler did; a closed stderr drops the
 * message and the command goes on to its own exit code.
 */
function writeAll(fd: 1 | 2, text: string): void {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN" || code === "EWOULDBLOCK") {
        Bun.sleepSync(1);
        continue;
      }
      if (code === "EPIPE") {
        if (fd === 2) return;
        process.exit(process.exitCode ?? 0);
      }
      throw e;
    }
  }
}

/** Results: TEXT to stdout, whole (see writeAll). */
export function writeOut(text: string): void {
  writeAll(1, text);
}

/** Messages for people: TEXT to stderr, whole (see writeAll). */
export function writeErr(text: string): void {
  writeAll(2, text);
}

/** Is stdout (fd 1) a terminal? Asked of the descriptor, without making the process.stdout stream. */
export function stdoutIsTTY(): boolean {
  return isatty(1);
}

/** Colour only on a terminal, and never when NO_COLOR is set (any value, per no-color.org) or TERM=dumb. */
export function colourEnabled(stream: { isTTY?: boolean } = { isTTY: stdoutIsTTY() }): boolean {
  const env = process.env;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

const ANSI = /\x1b\[[0-9;]*m/g;
/** The text without SGR colour sequences. */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, "");
}

/**
 * C0 controls but newline and tab, DEL, C1 controls, and the Unicode bidi
 * overrides and isolates (which reorder what a reader sees without a byte of
 * ESC). Any of them in a rule title, a state-database detail or an error
 * message could erase or rewrite a line on the operator's terminal.
 */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  const c = ch.charCodeAt(0);
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, "0")}` : `\\u${c.toString(16).padStart(4, "0")}`;
}

/**
 * The one escaping function for text output: every control character but
 * newline and tab is shown visibly (ESC as `\x1b`, a C1 CSI as `\x9b`, a bidi
 * override as `\u202e`), so nothing printed can move the cursor, erase a line
 * or reorder text. Idempotent: its output contains nothing it would change.
 *
 * @example visible("FAIL\x1b[2K") // "FAIL\\x1b[2K"
 */
export function visible(s: string): string {
  return s.replace(CONTROL, escapeChar);
}

/**
 * Colour is marked, not written, until a line is finished: {@link paint} wraps
 * text in noncharacter markers carrying a per-process random nonce, and
 * {@link terminalText} escapes the whole line, then turns only markers with
 * this nonce into SGR codes. A rule title cannot forge one: the nonce is
 * chosen after the rule files were written.
 */
let NONCE: string | undefined;
let MARK: RegExp | undefined;
/**
 * The nonce, chosen when the first colour marker is made: a run without colour
 * (a pipe, a file, NO_COLOR) never asks for random bytes (~0.7 ms at start-up).
 * Until then no genuine marker exists, so {@link terminalText} has none to turn
 * into colour, exactly as a forged marker never matches a random nonce.
 */
function nonce(): string {
  if (NONCE === undefined) {
    NONCE = [...crypto.getRandomValues(new Uint8Array(6))].map((b) => b.toString(16).padStart(2, "0")).join("");
    MARK = new RegExp(`\uFDD0${NONCE}(\\d+)\uFDD1`, "g");
  }
  return NONCE;
}

/**
 * A finished line for the terminal: {@link visible}, then Bulwark's own colour
 * markers (from {@link paint}) become real colour codes. Every text rendering
 * on stdout ends here.
 */
export function terminalText(s: string): string {
  const v = visible(s);
  return MARK === undefined ? v : v.replace(MARK, "\x1b[$1m");
}

/** Colour wrappers; identity when colour is off. */
export interface Paint {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  gray(s: string): string;
  bold(s: string): string;
}

/** Colour functions for a stream: colour markers that {@link terminalText} turns into SGR codes when ON, the text unchanged otherwise. */
export function paint(on: boolean): Paint {
  const mark = (code: number) => `\uFDD0${nonce()}${code}\uFDD1`;
  const c = (open: number, close: number) => (s: string) => (on ? `${mark(open)}${s}${mark(close)}` : s);
  return { red: c(31, 39), green: c(32, 39), yellow: c(33, 39), gray: c(90, 39), bold: c(1, 22) };
}

/** {@link visible}, and newlines joined with " | " and tabs shown, so a message stays one line whatever it quotes. */
export function oneLine(s: string): string {
  return visible(s.replace(/\r?\n/g, " | ").replace(/\t/g, "\\t"));
}

let logger: ConsolaInstance | undefined;
/**
 * The logger, made on the first message: loading consola and touching
 * process.stderr costs ~2-5 ms CPU of a ~16 ms `bulwark version` (bench/startup.ts), which a
 * command that logs nothing (`bulwark version`) should not pay.
 */
function consola(): ConsolaInstance {
  if (logger) return logger;
  // require, not import: the first message is synchronous and must not wait for a dynamic import.
  const { createConsola } = require("consola/basic") as typeof import("consola/basic");
  // Both of consola's streams are stderr, written through writeErr (no process.stderr stream).
  const stderr = { write: (s: string) => (writeErr(s), true) } as unknown as NodeJS.WriteStream;
  return (logger = createConsola({
    stdout: stderr,
    stderr,
    formatOptions: { date: false, colors: colourEnabled({ isTTY: isatty(2) }), compact: true },
  }));
}

/** Messages for people go to stderr; results go to stdout. Always one line. */
export const log = {
  error(msg: string): void {
    consola().error(oneLine(msg));
  },
  warn(msg: string): void {
    consola().warn(oneLine(msg));
  },
  info(msg: string): void {
    consola().info(oneLine(msg));
  },
};

/** "[3/40] rule-id" on stderr, rewritten in place; only on a TTY and not with --quiet. */
export class Progress {
  private readonly on: boolean;
  private shown = false;
  private last = 0;
  constructor(private readonly total: number, quiet: boolean, private readonly verb: string) {
    this.on = !quiet && isatty(2) && total > 1;
  }
  tick(n: number, what: string): void {
    if (!this.on) return;
    const now = Date.now();
    if (this.shown && now - this.last < 50 && n < this.total) return;
    this.last = now;
    this.shown = true;
    const cols = process.stderr.columns || 80;
    const line = visible(`[${n}/${this.total}] ${this.verb} ${what}`).slice(0, Math.max(10, cols - 1));
    writeErr(`\r\x1b[K${line}`);
  }
  done(): void {
    if (this.shown) writeErr("\r\x1b[K");
    this.shown = false;
  }
}
