import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import {
  effectiveSysctl,
  evaluateSysctl,
  parseSysctlFile,
  sysctlDotted,
  sysctlPath,
} from "../../src/config/sysctl.ts";
import { compareSysctl, SysctlValueParams } from "../../src/checks/sysctl-value.ts";
import type { ConfDir } from "../../src/config/modprobe.ts";

const E = "/etc/sysctl.d";
const R = "/run/sysctl.d";
const U = "/usr/lib/sysctl.d";

function tree(spec: Record<string, Record<string, string>>): ConfDir[] {
  return Object.entries(spec).map(([path, files]) => ({
    path,
    files: Object.entries(files).map(([name, content]) => ({ name, content })),
  }));
}

describe("sysctl-config", () => {
  test("sysctl-value/AC-01: the last assignment wins, files read in byte order of name across directories", () => {
    const cfg = evaluateSysctl(
      tree({
        [E]: { "10-a.conf": "net.ipv4.ip_forward = 1\n", "99-bulwark.conf": "net.ipv4.ip_forward = 0\n" },
        [U]: { "50-vendor.conf": "net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 2\n", "x.txt": "net.ipv4.ip_forward = 9\n" },
      }),
      null,
    );
    expect(cfg.files).toEqual([`${E}/10-a.conf`, `${U}/50-vendor.conf`, `${E}/99-bulwark.conf`]);
    const eff = effectiveSysctl(cfg, "net.ipv4.ip_forward");
    expect(eff.value).toBe("0");
    expect(eff.source).toMatchObject({ file: `${E}/99-bulwark.conf`, line: 1 });
  });

  test("sysctl-value/AC-02: /etc/sysctl.conf is read last and beats a 99- drop-in", () => {
    const cfg = evaluateSysctl(tree({ [E]: { "99-bulwark.conf": "kernel.randomize_va_space = 2\n" } }), "kernel.randomize_va_space=0\n");
    expect(effectiveSysctl(cfg, "kernel.randomize_va_space")).toMatchObject({ value: "0", source: { file: "/etc/sysctl.conf", line: 1 } });
  });

  test("sysctl-value/AC-03: a name in an earlier directory masks the same name later", () => {
    const cfg = evaluateSysctl(tree({ [E]: { "50-x.conf": "" }, [R]: { "50-x.conf": "vm.swappiness = 1\n" }, [U]: { "50-x.conf": "vm.swappiness = 2\n" } }), null);
    expect(cfg.files).toEqual([`${E}/50-x.conf`]);
    expect(effectiveSysctl(cfg, "vm.swappiness").value).toBeNull();
  });

  test("sysctl-value/AC-04: dotted and slashed keys are one key; '/' in a dotted key is a literal dot", () => {
    expect(sysctlPath("net.ipv4.conf.eth0/100.rp_filter")).toBe("net/ipv4/conf/eth0.100/rp_filter");
    expect(sysctlPath("net/ipv4/conf/eth0.100/rp_filter")).toBe("net/ipv4/conf/eth0.100/rp_filter");
    expect(sysctlDotted("net/ipv4/conf/eth0.100/rp_filter")).toBe("net.ipv4.conf.eth0/100.rp_filter");
    const cfg = evaluateSysctl(tree({ [E]: { "a.conf": "net/ipv4/conf/eth0.100/rp_filter = 1\nnet.ipv4.conf.eth0/100.rp_filter = 2\n" } }), null);
    const eff = effectiveSysctl(cfg, "net/ipv4/conf/eth0.100/rp_filter");
    expect(eff.value).toBe("2");
    expect(eff.entries.length).toBe(2);
  });

  test("sysctl-value/AC-05: whitespace, # and ; comments, '-' prefix, no inline comments, invalid lines", () => {
    const { entries, invalid } = parseSysctlFile(
      "/f",
      ["# c", "; c", "   ", "x", "  kernel.a\t=\t 1 2 \t", "-kernel.b=3", "kernel.c = 4 # not a comment", "kernel.d==5", "kernel.e =", "novalue", "-kernel.f"].join("\n"),
    );
    expect(entries.map((e) => [e.key, e.value, e.ignoreFailure, e.line])).toEqual([
      ["kernel.a", "1 2", false, 5],
      ["kernel.b", "3", true, 6],
      ["kernel.c", "4 # not a comment", false, 7],
      ["kernel.d", "=5", false, 8],
      ["kernel.e", "", false, 9],
      ["kernel.f", null, false, 11],
    ]);
    // "x" alone is 2 bytes with its newline, so procps parses it and reports invalid syntax, as it does "novalue".
    expect(invalid.map((i) => i.line)).toEqual([4, 10]);
  });

  test("sysctl-value/AC-06: globs lose to any explicit assignment and to excludes; among globs the last wins", () => {
    const cfg = evaluateSysctl(
      tree({ [E]: { "a.conf": "net.ipv4.conf.all.rp_filter = 1\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.lo.rp_filter\nnet.ipv4.conf.[de]*.rp_filter = 3\n" } }),
      null,
    );
    expect(effectiveSysctl(cfg, "net.ipv4.conf.all.rp_filter").value).toBe("1");
    expect(effectiveSysctl(cfg, "net.ipv4.conf.eth0.rp_filter").value).toBe("3");
    expect(effectiveSysctl(cfg, "net.ipv4.conf.ifb0.rp_filter").value).toBe("2");
    expect(effectiveSysctl(cfg, "net.ipv4.conf.lo.rp_filter")).toMatchObject({ value: null, source: null });
  });

  test("sysctl-value/AC-07: every assignment of the key is reported with file and line", () => {
    const cfg = evaluateSysctl(tree({ [E]: { "10.conf": "vm.swappiness=1\n", "99-bulwark.conf": "vm.swappiness=10\n" } }), "# x\nvm/swappiness = 60\n");
    expect(effectiveSysctl(cfg, "vm.swappiness").entries.map((e) => `${e.file}:${e.line}=${e.value}`)).toEqual([
      `${E}/10.conf:1=1`,
      `${E}/99-bulwark.conf:1=10`,
      "/etc/sysctl.conf:2=60",
    ]);
  });

  test("sysctl-value/AC-10: comparators compare integers numerically and vectors token by token", () => {
    expect(compareSysctl("1", "1", "eq")).toBe(true);
    expect(compareSysctl("01", "1", "eq")).toBe(true);
    expect(compareSysctl("32768\t60999", "32768 60999", "eq")).toBe(true);
    expect(compareSysctl("2", "1", "ne")).toBe(true);
    expect(compareSysctl("10", "9", "ge")).toBe(true);
    expect(compareSysctl("10", "9", "lt")).toBe(false);
    expect(compareSysctl("9", "9", "le")).toBe(true);
    expect(compareSysctl("9", "9", "gt")).toBe(false);
    expect(compareSysctl("abc", "abc", "eq")).toBe(true);
    expect(typeof compareSysctl("1 2", "1", "ge")).toBe("string");
  });

  test("sysctl-value/AC-11: hostile params are refused with the field named", () => {
    const bad = (input: unknown) => {
      const r = v.safeParse(SysctlValueParams, input);
      expect(r.success).toBe(false);
      return r.issues![0]!;
    };
    for (const key of ["net..ipv4", "../../etc/passwd", "a\nb", "net.ipv4.*", "-net.x", "a/", "", "a b", "a\0b"]) {
      const i = bad({ key, expected: "1" });
      expect(i.path?.[0]?.key).toBe("key");
      expect(i.message).toMatch(/sysctl key/);
    }
    for (const expected of ["1\nkernel.x = 2", "1\0", "1\r", "", "  "]) {
      const i = bad({ key: "kernel.x", expected });
      expect(i.path?.[0]?.key).toBe("expected");
      expect(i.message).toMatch(/sysctl value/);
    }
    expect(bad({ key: "kernel.x", expected: "1", comparator: "approx" }).path?.[0]?.key).toBe("comparator");
    expect(v.parse(SysctlValueParams, { key: "net.ipv4.conf.eth0/100.rp_filter", expected: 1 })).toEqual({
      key: "net.ipv4.conf.eth0/100.rp_filter",
      expected: "1",
      comparator: "eq",
    });
  });
});
