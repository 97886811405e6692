#!/usr/bin/env bun
/** `bun run bench`: every benchmark, in one run, so ratios compare like with like. */
import { benchDurableWrite } from "./durable-write.ts";
import { benchRemediate } from "./remediate.ts";

const benches: [string, () => Promise<string[]>][] = [
  ["durable-write", benchDurableWrite],
  ["remediate", benchRemediate],
];
for (const [name, fn] of benches) {
  console.log(`== ${name}`);
  for (const line of await fn()) console.log(line);
}
