#!/usr/bin/env bun
/**
 * `bun run bench`: every benchmark, in one run, so ratios compare like with
 * like: durable single-file replaces, the shipped-rule remediate beside its
 * physical and journaled floors, the scale series (compiled binary),
 * the real-image run, start-up per command (startup.ts), and the same edits
 * as an Ansible playbook (ansible.ts); `bun run bench NAME…` runs only those.
 */
import { benchDurableWrite } from "./durable-write.ts";
import { floorMs } from "./floor.ts";
import { benchRemediate, lastRemediate } from "./remediate.ts";
import { benchScale } from "./scale.ts";
import { benchImage } from "./image.ts";
import { benchStartup } from "./startup.ts";
import { benchAnsible } from "./ansible.ts";

async function benchFloors(): Promise<string[]> {
  const r = lastRemediate;
  if (!r) return ["(remediate did not run)"];
  const median = (f: () => number) => [f(), f(), f()].sort((a, b) => a - b)[1]!;
  const floor = median(() => floorMs(r.rules, false));
  const jfloor = median(() => floorMs(r.rules, true));
  const row = (label: string, ms: number) =>
    `  ${label.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / floor).toFixed(1).padStart(6)}× floor  ${(ms / jfloor).toFixed(1).padStart(6)}× journaled floor`;
  return [
    `${r.rules} durable replaces, median of 3, same filesystem:`,
    row("floor (libc FFI loop)", floor),
    row("journaled floor (+2 SQLite commits)", jfloor),
    row("kernel-io remediate", r.kernelIo),
    row("shell remediate", r.shell),
  ];
}

const benches: [string, () => Promise<string[]>][] = [
  ["durable-write", benchDurableWrite],
  ["remediate", benchRemediate],
  ["image", () => benchImage()],
  ["floor", benchFloors],
  ["scale", benchScale],
  ["startup", () => benchStartup()],
  ["ansible", () => benchAnsible()],
];
const only = process.argv.slice(2);
for (const [name, fn] of benches) {
  if (only.length && !only.includes(name) && !(name === "floor" && only.includes("remediate"))) continue;
  console.log(`== ${name}`);
  for (const line of await fn()) console.log(line);
}
