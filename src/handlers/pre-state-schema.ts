/**
 * Schemas for the file parts of a pre-state, as read back from the journal.
 *
 * The state database may come with an untrusted image, or be edited by hand:
 * a pre-state is input, not a memory. What rollback hands to a Host — a mode,
 * an owner, a path, bytes — is checked here first: modes and owners are
 * integers in range (never text that could reach a shell), bytes are bounded
 * base64, and every path is absolute, canonical and inside the footprint the
 * step's own params give. A mechanism builds its pre-state schema from these.
 */
import * as v from "valibot";
import { footprintAllows, type TouchOp } from "../host/recording-host.ts";
import type { FilePre, LineEdit, NeutralisedLine } from "./file-state.ts";

/** The largest file a pre-state may carry (bytes before base64): a configuration file, not a disk image. */
export const MAX_CAPTURED_FILE_BYTES = 4 * 1024 * 1024;
/** base64 length of MAX_CAPTURED_FILE_BYTES. */
const MAX_B64 = Math.ceil(MAX_CAPTURED_FILE_BYTES / 3) * 4;
/** Bounds on what one step may list: far above any real configuration, far below a memory problem. */
export const MAX_EDITS = 256;
export const MAX_LINES = 100_000;
const MAX_TEXT = 65_536;

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Absolute, no "." or ".." component, no "//", no trailing "/", no NUL or newline: what a Host accepts literally. */
export function isCanonicalAbsolute(p: string): boolean {
  if (!p.startsWith("/") || p.length > 4096 || /[\0\n]/.test(p)) return false;
  if (p === "/") return true;
  return p.slice(1).split("/").every((c) => c !== "" && c !== "." && c !== "..");
}

/** A mode as stat(2) gives it for permissions: an integer 0..0o7777. */
export const ModeSchema = v.pipe(
  v.number("mode must be an integer"),
  v.integer("mode must be an integer"),
  v.minValue(0, "mode must be 0..0o7777"),
  v.maxValue(0o7777, "mode must be 0..0o7777"),
);

/** A uid or gid: an integer 0..2^32-2 (2^32-1 is "no change" to chown(2)). */
export const IdSchema = v.pipe(
  v.number("uid/gid must be an integer"),
  v.integer("uid/gid must be an integer"),
  v.minValue(0, "uid/gid must be 0..4294967294"),
  v.maxValue(0xfffffffe, "uid/gid must be 0..4294967294"),
);

/** A path the journal names for OP: canonical and inside FOOTPRINT (and EXACTLY `exact` when given). */
export function journaledPath(footprint: readonly string[], op: TouchOp, exact?: string) {
  return v.pipe(
    v.string("path must be a string"),
    v.check(isCanonicalAbsolute, "path must be absolute and canonical (no ., .., // or trailing /)"),
    v.check(
      (p) => (exact === undefined ? footprintAllows(footprint, op, p) : p === exact),
      exact === undefined
        ? `path must be inside the step's footprint [${footprint.join(", ")}]`
        : `path must be ${exact}, the file the step's params name`,
    ),
  );
}

/** A whole file as captured; its path is EXACT when given, else any path inside FOOTPRINT. */
export function filePreSchema(footprint: readonly string[], exact?: string): v.GenericSchema<unknown, FilePre> {
  const path = journaledPath(footprint, "write", exact);
  return v.variant("existed", [
    v.strictObject({
      path,
      existed: v.literal(true),
      b64: v.pipe(
        v.string("b64 must be base64 text"),
        v.maxLength(MAX_B64, `b64 must hold at most ${MAX_CAPTURED_FILE_BYTES} bytes`),
        v.regex(B64_RE, "b64 must be base64 text"),
      ),
      mode: ModeSchema,
      uid: IdSchema,
      gid: IdSchema,
      parentExisted: v.optional(v.boolean()),
    }),
    v.strictObject({
      path,
      existed: v.literal(false),
      b64: v.null("b64 must be null for a file that did not exist"),
      mode: v.null("mode must be null for a file that did not exist"),
      uid: v.null("uid must be null for a file that did not exist"),
      gid: v.null("gid must be null for a file that did not exist"),
      parentExisted: v.optional(v.boolean("parentExisted must be true or false")),
    }),
  ], "existed must be true or false") as v.GenericSchema<unknown, FilePre>;
}

/** Line text as captured: one physical line, no newline. */
const LineText = v.pipe(
  v.string("text must be a string"),
  v.maxLength(MAX_TEXT, `text must be at most ${MAX_TEXT} characters`),
  v.check((t) => !t.includes("\n"), "text must be one line"),
);

const NeutralisedLineSchema: v.GenericSchema<unknown, NeutralisedLine> = v.strictObject({
  line: v.pipe(v.number("line must be an integer"), v.integer("line must be an integer"), v.minValue(1, "line must be >= 1"), v.maxValue(MAX_LINES * 100, "line is out of range")),
  text: LineText,
});

/** A captured neutralisation of lines in a file inside FOOTPRINT; its prior capture names the same file. */
export function lineEditSchema(footprint: readonly string[]): v.GenericSchema<unknown, LineEdit> {
  return v.pipe(
    v.strictObject({
      path: journaledPath(footprint, "write"),
      seenAs: v.pipe(
        v.array(v.pipe(v.string("seenAs entries must be paths"), v.check(isCanonicalAbsolute, "seenAs entries must be absolute paths"))),
        v.maxLength(64, "seenAs lists too many paths"),
      ),
      prior: filePreSchema(footprint),
      lines: v.pipe(v.array(NeutralisedLineSchema), v.minLength(1, "lines must not be empty"), v.maxLength(MAX_LINES, "lines lists too many lines")),
    }),
    v.forward(
      v.check((e) => e.prior.path === e.path, "prior.path must be the edit's own path"),
      ["prior", "path"],
    ),
  ) as v.GenericSchema<unknown, LineEdit>;
}

/** The list of a step's line edits, each in a distinct file. */
export function lineEditsSchema(footprint: readonly string[]) {
  return v.pipe(
    v.array(lineEditSchema(footprint)),
    v.maxLength(MAX_EDITS, "edits lists too many files"),
    v.check((es) => new Set(es.map((e) => e.path)).size === es.length, "edits must name each file once"),
  );
}

/** "a.b.0.c: message (holds "…")": where a value failed, what was expected, and what is there now. */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const where = issue.path?.map((p) => String(p.key)).join(".") ?? "";
  let held: string;
  try {
    held = JSON.stringify(issue.input) ?? String(issue.input);
  } catch {
    held = String(issue.input);
  }
  if (held.length > 120) held = held.slice(0, 117) + "...";
  return `${where ? where + ": " : ""}${issue.message} (holds ${held})`;
}

/**
 * Vendor files masked by an /etc copy (handlers/vendor-override.ts), as a journal may hold them: the copy is
 * inside FOOTPRINT and did not exist before (rollback only removes it); the vendor bytes are read, never written.
 * Optional: journals written before issue 13 have no `overrides`.
 */
export function vendorOverridesSchema(footprint: readonly string[]) {
  const one = v.pipe(
    v.strictObject({
      from: v.pipe(v.string("from must be a path"), v.check(isCanonicalAbsolute, "from must be an absolute path")),
      vendor: filePreSchema(["/"]),
      path: journaledPath(footprint, "write"),
      prior: filePreSchema(footprint),
      lines: v.pipe(v.array(NeutralisedLineSchema), v.minLength(1, "lines must not be empty"), v.maxLength(MAX_LINES, "lines lists too many lines")),
    }),
    v.forward(
      v.check((o) => o.prior.path === o.path && !o.prior.existed, "prior must be the copy's own path, captured absent"),
      ["prior", "path"],
    ),
  );
  return v.optional(v.pipe(v.array(one), v.maxLength(MAX_EDITS, "overrides lists too many files")));
}

/**
 * Lines a capture found that override the rule but cannot be neutralised (reported, never acted on): file,
 * line, the conflicting text under FIELD (bounded by MAX_TEXT_LEN), and an optional reason.
 */
export function unfixableSchema<F extends string>(field: F, maxTextLen: number) {
  return v.pipe(
    v.array(
      v.strictObject({
        file: v.pipe(v.string(), v.check(isCanonicalAbsolute, "file must be an absolute path")),
        line: v.pipe(v.number(), v.integer(), v.minValue(1)),
        [field]: v.pipe(v.string(), v.maxLength(maxTextLen)),
        reason: v.optional(v.pipe(v.string(), v.maxLength(4096))),
      } as { file: any; line: any; reason: any } & Record<F, any>),
    ),
    v.maxLength(256, "unfixable lists too many lines"),
  );
}
