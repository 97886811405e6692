/** The persistent shell carries large outputs byte-exact (collected in chunks, joined once). */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { persistentShell, shellQuote } from "../../src/host/executor.ts";
import { makeSysroot } from "../support/sysroot.ts";

test("performance/AC-06: a 4 MiB stdout (many pipe chunks) and a following call come back byte-exact", async () => {
  const s = makeSysroot("bulwark-shell-read-");
  try {
    const bytes = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 12)) & 0xff;
    const f = join(s.root, "big");
    writeFileSync(f, bytes);
    const sh = persistentShell();
    const r = await sh.run(`cat -- ${shellQuote(f)}; printf 'tail\\n' >&2`);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(bytes.length);
    expect(Buffer.from(r.stdout).equals(Buffer.from(bytes))).toBe(true);
    expect(r.stderr).toBe("tail");
    // What follows the marker in the same chunk stays for the next call.
    const again = await sh.run("printf 'a\\nb'; exit 3");
    expect([again.code, Buffer.from(again.stdout).toString()]).toEqual([3, "a\nb"]);
  } finally {
    s.cleanup();
  }
}, 60_000);
