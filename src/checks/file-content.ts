/**
 * `file_content {path, expected_content, match?}`: what a file holds.
 * `exact` (default) compares every byte (a trailing newline counts: the
 * file_content mechanism writes exactly its content); `contains` looks for
 * the text anywhere; `regex` tests a JavaScript regular expression (multiline,
 * so `^`/`$` are line anchors). The detail names the first differing line.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { ConfigFilePath, unresolvedVariable } from "../params/keyvalue.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { registerCheck } from "./registry.ts";
import { resolveLogical } from "./fs-gather.ts";

const MAX_CONTENT = 1024 * 1024;

/** file_content parameters; a regex is compiled at load, so a bad one never reaches a host. */
export const FileContentParams = v.pipe(
  v.strictObject(
    {
      path: ConfigFilePath,
      expected_content: v.pipe(v.string("expected_content must be a string"), v.maxLength(MAX_CONTENT, "expected_content is longer than 1 MiB"), v.check((s) => !s.includes("\0"), "expected_content must not contain NUL")),
      match: v.optional(v.picklist(["exact", "contains", "regex"], "match must be one of exact, contains, regex"), "exact"),
    },
    "file_content takes only {path, expected_content, match}",
  ),
  v.check((p) => {
    if (p.match !== "regex") return true;
    try {
      new RegExp(p.expected_content, "m");
      return true;
    } catch {
      return false;
    }
  }, "expected_content is not a valid regular expression"),
);
export type FileContentParams = v.InferOutput<typeof FileContentParams>;

const clip = (s: string) => JSON.stringify(s.length > 80 ? s.slice(0, 77) + "..." : s);

/** 1-based line of the first difference between A and B, with both lines. */
function firstDifference(a: string, b: string): { line: number; have: string; want: string } {
  const x = a.split("\n");
  const y = b.split("\n");
  for (let i = 0; ; i++) if (x[i] !== y[i]) return { line: i + 1, have: x[i] ?? "<end of file>", want: y[i] ?? "<end of file>" };
}

async function run(host: Host, p: FileContentParams): Promise<CheckResult> {
  const name = unresolvedVariable(p.expected_content);
  if (name) return { status: "error", detail: `expected_content names the rule variable {{ ${name} }}, which this version does not resolve` };
  let text: string;
  try {
    const real = await resolveLogical(host, p.path);
    const st = await host.readFile(real);
    if (!st.exists) return { status: "fail", detail: `${p.path} does not exist` };
    text = Buffer.from(st.bytes).toString("utf8");
    if (p.match === "exact") {
      if (Buffer.from(st.bytes).equals(Buffer.from(p.expected_content, "utf8"))) return { status: "pass", detail: `${p.path} holds exactly the expected ${st.bytes.length} bytes` };
      const d = firstDifference(text, p.expected_content);
      return { status: "fail", detail: `${p.path}:${d.line} differs: holds ${clip(d.have)}, expected ${clip(d.want)}` };
    }
  } catch (e) {
    return { status: "error", detail: `cannot read ${p.path}: ${(e as Error).message}` };
  }
  if (p.match === "contains") {
    const at = text.indexOf(p.expected_content);
    return at >= 0
      ? { status: "pass", detail: `${p.path}:${text.slice(0, at).split("\n").length} contains ${clip(p.expected_content)}` }
      : { status: "fail", detail: `${p.path} does not contain ${clip(p.expected_content)}` };
  }
  const m = new RegExp(p.expected_content, "m").exec(text);
  return m
    ? { status: "pass", detail: `${p.path}:${text.slice(0, m.index).split("\n").length} matches /${p.expected_content}/` }
    : { status: "fail", detail: `${p.path} has no match for /${p.expected_content}/` };
}

/** The file_content check method, registered under that name. */
export const fileContent: CheckMethod<FileContentParams> = {
  name: "file_content",
  params: FileContentParams,
  uses: ["files"],
  run,
};

registerCheck(fileContent);
