import { describe, expect, test } from "bun:test";
import {
  parsePamFile, pamArg, pamArgSpelling, pamControlError, pamServiceFor, pamStack, pamTokens, type PamType,
} from "../../src/config/pam.ts";
import { prng } from "./prng.ts";
import { debian12Pam } from "../support/pam-fixtures.ts";

const tree = (files: Record<string, string>) => new Map(Object.entries(files).map(([k, v]) => [k.startsWith("/") ? k : `/etc/pam.d/${k}`, v]));
const brief = (s: ReturnType<typeof pamStack>) => s.entries.map((e) => [e.module, ...e.args].join(" ") + (e.bad ? " !" : ""));

describe("pam parser (libpam 1.5.2 facts)", () => {
  test("pam-config/AC-01: a trailing backslash continues the line, across blank and #-led lines; a # later in a line ends it, even before a backslash", () => {
    const f = parsePamFile("# c\n\nauth required \\\n   pam_x.so a \\\n\n# note \n b\nauth required pam_y.so # c \\\nauth required pam_z.so\n");
    expect(f.fatal).toBeNull();
    expect(f.lines.map((l) => [l.first, l.last, l.target, l.args])).toEqual([
      [3, 7, "pam_x.so", ["a", "b"]],
      [8, 8, "pam_y.so", []],
      [9, 9, "pam_z.so", []],
    ]);
    expect(parsePamFile(`auth required pam_x.so ${"a".repeat(1100)}\n`).fatal).toContain("1024-byte");
  });

  test("pam-config/AC-02: a file that ends inside a continued line is fatal (libpam aborts the whole service)", () => {
    expect(parsePamFile("auth required pam_unix.so \\\n").fatal).toContain("continued line");
    expect(parsePamFile("auth required pam_unix.so \\").fatal).toContain("continued line");
    expect(parsePamFile("auth required pam_unix.so # \\\n").fatal).toBeNull();
    expect(parsePamFile("auth required pam_unix.so \\\n\n# only comments follow\n").fatal).toContain("continued line");
    expect(parsePamFile("auth required pam_unix.so\0").fatal).toContain("NUL");
  });

  test("pam-config/AC-03: [..] tokens run to the first ] (\\] is ]), the next token may follow at once; CR is not a blank", () => {
    expect(pamTokens("a [b c\\]d]e [x").map((t) => t.value)).toEqual(["a", "b c]d", "e", "x"]);
    const l = parsePamFile("auth [success=1 default=ignore] pam_unix.so [arg with space] nullok\r\n").lines[0]!;
    expect(l.control).toBe("success=1 default=ignore");
    expect(l.args).toEqual(["arg with space", "nullok\r"]);
  });

  test("pam-config/AC-04: bad type, control or missing module make an always-failing line, not a parse error; -type is silent; keywords ignore case", () => {
    const f = parsePamFile("authx required pam_a.so\nauth [success=ok bogus] pam_b.so\nauth required\n-AUTH Sufficient pam_c.so\n");
    expect(f.fatal).toBeNull();
    expect(f.lines.map((l) => l.bad === null)).toEqual([false, false, false, true]);
    expect(f.lines[3]).toMatchObject({ type: "auth", silent: true, control: "Sufficient", target: "pam_c.so" });
    expect(pamControlError("success=ok new_authtok_reqd=done default=bad")).toBeNull();
    expect(pamControlError("success=0")).toBe("expecting non-zero");
    expect(pamControlError("succes=ok")).toBe("expecting return value");
  });

  test("pam-config/AC-05: @include reads all types, include/substack only the line's type; a service with no line of a type uses other", () => {
    const files = tree({
      svc: "@include common\npassword include pw\nsession substack sess\n",
      common: "auth required pam_a.so x\naccount required pam_b.so\n",
      pw: "auth required pam_never.so\npassword requisite pam_pw.so minlen=8\n",
      sess: "session optional pam_s.so\n",
      other: "account required pam_deny.so\nsession required pam_deny.so\n",
    });
    expect(brief(pamStack(files, "svc", "auth"))).toEqual(["pam_a.so x"]);
    expect(brief(pamStack(files, "svc", "password"))).toEqual(["pam_pw.so minlen=8"]);
    expect(pamStack(files, "svc", "session").entries).toMatchObject([{ module: null, control: "substack", bad: null, depth: 0 }, { module: "pam_s.so", depth: 1 }]);
    // A substack of an empty file is still a handler: the service does not fall back to other.
    expect(pamStack(tree({ svc: "account substack empty\n", empty: "", other: "account required pam_deny.so\n" }), "svc", "account").fromOther).toBe(false);
    const none = pamStack(files, "nosuch", "account");
    expect(none.fromOther).toBe(true);
    expect(brief(none)).toEqual(["pam_deny.so"]);
  });

  test("pam-config/AC-06: include of a file that cannot be opened or read is an always-failing line; @include of one, an include loop, or a fatal service or other file fails the service", () => {
    expect(brief(pamStack(tree({ s: "auth include missing\nauth required pam_a.so\n" }), "s", "auth"))).toEqual([" !", "pam_a.so"]);
    const inc = pamStack(tree({ s: "auth include c\n", c: "auth required pam_a.so\nauth required pam_b.so \\\n" }), "s", "auth");
    expect(inc.fatal).toBeNull();
    expect(brief(inc)).toEqual(["pam_a.so", " !"]);
    expect(pamStack(tree({ s: "auth required pam_a.so\n@include missing\n" }), "s", "auth").fatal).toContain("cannot open missing");
    expect(pamStack(tree({ s: "@include\n" }), "s", "auth").fatal).toContain("crashes");
    expect(pamStack(tree({ s: "auth include c\n", c: "auth include s\n" }), "s", "auth").fatal).toContain("include loop");
    expect(pamStack(tree({ s: "auth required pam_a.so \\\n" }), "s", "auth").fatal).toContain("continued line");
    expect(pamStack(tree({ s: "auth required pam_a.so\n", other: "auth required pam_b.so \\\n" }), "s", "auth").fatal).toContain("every service fails");
    const deep = tree(Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`s${i}`, `auth substack s${i + 1}\n`])));
    expect(pamStack(deep, "s0", "auth").entries.at(-1)!.bad).toContain("maximum level of substacks");
  });

  test("pam-config/AC-07: the last key=value wins; system-auth/password-auth stand for Debian's common-<type> only when absent", () => {
    expect(pamArg(["minlen=8", "retry=3", "minlen=14"], "minlen")).toEqual({ present: true, value: "14" });
    expect(pamArg(["nullok_secure"], "nullok")).toEqual({ present: false });
    const deb = tree({ "common-password": "password required pam_unix.so\n" });
    expect(pamServiceFor(deb, "system-auth", "password")).toBe("common-password");
    expect(pamServiceFor(deb, "sshd", "password")).toBe("sshd");
    expect(pamServiceFor(tree({ "system-auth": "", "common-password": "" }), "system-auth", "password")).toBe("system-auth");
  });

  test("pam-config/AC-08: an argument spelling reads back as exactly the argument, or is refused (#, newline, \\ before ])", () => {
    const rand = prng(15);
    const alphabet = ["a", "=", " ", "[", "]", "\\", "\t", "#", "x", "1", "/"];
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const arg = Array.from({ length: 1 + rand.int(8) }, () => rand.pick(alphabet)).join("");
      const s = pamArgSpelling(arg);
      if (s === null) {
        refused++;
        continue;
      }
      const l = parsePamFile(`auth required pam_x.so ${s} tail\n`).lines[0]!;
      expect(l.args).toEqual([arg, "tail"]);
    }
    expect(refused).toBeGreaterThan(0);
    expect(pamArgSpelling("a#b")).toBeNull();
  });

  test("pam-config/AC-09: Debian 12's stock files: su reads pam_rootok then common-auth's pam_unix nullok; common-password needs nothing else", () => {
    const files = tree(debian12Pam());
    const su = pamStack(files, "su", "auth");
    expect(su.fatal).toBeNull();
    expect(brief(su)).toEqual(["pam_rootok.so", "pam_unix.so nullok", "pam_deny.so", "pam_permit.so", "pam_cap.so"]);
    expect(su.files).toContain("/etc/pam.d/common-auth");
    expect(brief(pamStack(files, "passwd", "password"))).toEqual(["pam_unix.so obscure yescrypt", "pam_deny.so", "pam_permit.so"]);
    for (const svc of Object.keys(debian12Pam())) for (const t of ["auth", "account", "password", "session"] as PamType[]) {
      const s = pamStack(files, svc, t);
      expect(s.fatal).toBeNull();
      expect(s.entries.filter((e) => e.bad !== null)).toEqual([]);
    }
  });
});
