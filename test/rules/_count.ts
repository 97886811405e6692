import "../../src/checks/index.ts"; import "../../src/handlers/index.ts";
import { loadRulesFromPath, unsupportedOf } from "../../src/rules/load.ts";
import { KENSA_FULL_DIR, testLookup } from "./helpers.ts";
const res = loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup });
const run = res.rules.filter(r => unsupportedOf(r).length === 0);
console.log("errors", res.errors.length, res.errors.slice(0,3).map(String), "rules", res.rules.length, "runnable", run.length, "unsupported", res.rules.length - run.length);
