#!/usr/bin/env bun
/** `bun run bench`: every benchmark, in one run, so ratios compare like with like. */
import { benchDurableWrite } from "./durable-write.ts";

const benches: [string, () => Promise<string[]>][] = [["durable-write", benchDurableWrite]];
try {
  const { benchRemediate } = await import("./remediate.ts");
  benches.push(["remediate", benchRemediate]);
} catch {
  // the remediation benchmark lands with the handlers
}
for (const [name, fn] of benches) {
  console.log(`== ${name}`);
  for (const line of await fn()) console.log(line);
}
