import "../../src/checks/index.ts"; import "../../src/handlers/index.ts";
import { loadRulesFromPath, unsupportedOf } from "../../src/rules/load.ts";
import { testLookup } from "./helpers.ts";
const res = loadRulesFromPath(process.argv[2]!, { lookup: testLookup });
console.log("errors", res.errors.map(String), "rules", res.rules.length);
for (const r of res.rules) { const u = unsupportedOf(r); if (u.length) console.log(r.id, u); }
