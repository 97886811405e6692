#!/usr/bin/env bun
/** `bun run bench`: every benchmark, in one run, so ratios compare like with like; `bun run bench NAME…` runs only those. */
import { benchDurableWrite } from "./durable-write.ts";
import { benchRemediate } from "./remediate.ts";
import { benchImage } from "./image.ts";

const benches: [string, () => Promise<string[]>][] = [
  ["durable-write", benchDurableWrite],
  ["remediate", benchRemediate],
  ["image", () => benchImage()],
];
const only = process.argv.slice(2);
for (const [name, fn] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`== ${name}`);
  for (const line of await fn()) console.log(line);
}
