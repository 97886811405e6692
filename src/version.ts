/**
 * Version and commit. `scripts/build-binary.ts` replaces the two globals at
 * compile time (`--define`); under `bun run` they fall back to package.json.
 */
import pkg from "../package.json" with { type: "json" };

declare const BULWARK_VERSION: string | undefined;
declare const BULWARK_COMMIT: string | undefined;

export const VERSION: string = typeof BULWARK_VERSION === "string" ? BULWARK_VERSION : pkg.version;
export const COMMIT: string = typeof BULWARK_COMMIT === "string" ? BULWARK_COMMIT : "dev";
