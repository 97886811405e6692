import { describe, expect, test } from "bun:test";
import type { ConfDir } from "../../src/config/modprobe.ts";
import {
  effectiveSystemdSysctl,
  evaluateSystemdSysctl,
  isSystemdSysctlConfName,
  systemdLines,
  systemdSysctlNormalize,
} from "../../src/config/systemd-sysctl.ts";
import { effectiveSysctl, evaluateSysctl } from "../../src/config/sysctl.ts";
import { fnmatch, globPathMatches } from "../../src/config/fnmatch.ts";

const E = "/etc/sysctl.d";
const U = "/usr/lib/sysctl.d";

function tree(spec: Record<string, Record<string, string>>): ConfDir[] {
  return Object.entries(spec).map(([path, files]) => ({ path, files: Object.entries(files).map(([name, content]) => ({ name, content })) }));
}

describe("systemd-sysctl", () => {
  test("systemd-sysctl/AC-01: an exclusion line after an assignment discards it: nothing is written at boot", () => {
    // RHEL 9's 50-default.conf pattern: a glob, then an exclusion of one key.
    const dirs = tree({
      [E]: { "40-cis.conf": "net.ipv4.conf.all.rp_filter = 1\n" },
      [U]: { "50-default.conf": "net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n" },
    });
    const eff = effectiveSystemdSysctl(evaluateSystemdSysctl(dirs), "net.ipv4.conf.all.rp_filter");
    expect(eff.value).toBeNull();
    expect(eff.excluded).toBe(true);
    expect(eff.source).toMatchObject({ file: `${U}/50-default.conf`, line: 2, value: null });
    // the glob still reaches the other interfaces
    expect(effectiveSystemdSysctl(evaluateSystemdSysctl(dirs), "net.ipv4.conf.default.rp_filter").value).toBe("2");
    // procps 4.0.2 reads the same files and keeps the explicit assignment: the two judges disagree here
    expect(effectiveSysctl(evaluateSysctl(dirs, null), "net.ipv4.conf.all.rp_filter").value).toBe("1");
  });

  test("systemd-sysctl/AC-02: a later assignment after an exclusion sets the key again", () => {
    const dirs = tree({ [E]: { "99-bulwark.conf": "net.ipv4.conf.all.rp_filter = 1\n" }, [U]: { "50-default.conf": "-net.ipv4.conf.all.rp_filter\n" } });
    expect(effectiveSystemdSysctl(evaluateSystemdSysctl(dirs), "net/ipv4/conf/all/rp_filter")).toMatchObject({ value: "1", excluded: false });
  });

  test("systemd-sysctl/AC-03: hidden files are skipped (procps reads them)", () => {
    expect(isSystemdSysctlConfName(".x.conf")).toBe(false);
    expect(isSystemdSysctlConfName("x.conf")).toBe(true);
    // "." sorts before digits: procps reads the hidden file first, systemd not at all
    const dirs = tree({ [E]: { ".hidden.conf": "vm.swappiness = 5\n" } });
    expect(effectiveSystemdSysctl(evaluateSystemdSysctl(dirs), "vm.swappiness").value).toBeNull();
    expect(effectiveSysctl(evaluateSysctl(dirs, null), "vm.swappiness").value).toBe("5");
  });

  test("systemd-sysctl/AC-04: /etc/sysctl.conf is read only as the 99-sysctl.conf link, where that name sorts", () => {
    // The evaluator takes no sysctl.conf argument at all: without the link it is not read.
    const withLink = tree({ [E]: { "99-sysctl.conf": "kernel.x = conf\n", "99-z.conf": "kernel.x = z\n" } });
    expect(effectiveSystemdSysctl(evaluateSystemdSysctl(withLink), "kernel.x").value).toBe("z");
    expect(effectiveSysctl(evaluateSysctl(withLink, "kernel.x = conf\n"), "kernel.x").value).toBe("conf");
  });

  test("systemd-sysctl/AC-05: explicit keys beat globs; among globs the last in map order wins", () => {
    const dirs = tree({ [E]: { "10.conf": "net.ipv4.conf.*.rp_filter = 1\nnet.ipv4.conf.all.rp_filter = 0\n", "20.conf": "net.ipv4.conf.[ad]*.rp_filter = 2\n" } });
    const cfg = evaluateSystemdSysctl(dirs);
    expect(effectiveSystemdSysctl(cfg, "net.ipv4.conf.all.rp_filter").value).toBe("0");
    expect(effectiveSystemdSysctl(cfg, "net.ipv4.conf.default.rp_filter").value).toBe("2");
    expect(effectiveSystemdSysctl(cfg, "net.ipv4.conf.lo.rp_filter").value).toBe("1");
    // the same glob re-assigned with another value moves to the end of the map
    const moved = evaluateSystemdSysctl(tree({ [E]: { "10.conf": "net.ipv4.conf.*.rp_filter = 1\nnet.ipv4.conf.d*.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 3\n" } }));
    expect(effectiveSystemdSysctl(moved, "net.ipv4.conf.default.rp_filter").value).toBe("3");
  });

  test("systemd-sysctl/AC-06: lines end at LF, CR, CRLF or NUL; whitespace and ; # comments as systemd reads them", () => {
    expect(systemdLines("a\r\nb\rc\n\rd\0e\n\nf")).toEqual(["a", "b", "c", "d", "e", "", "f"]);
    const cfg = evaluateSystemdSysctl(tree({ [E]: { "a.conf": "; x = 1\n  # y = 1\nnot an assignment\n kernel.a = 1 # c \r\n-kernel.b=\t2\t\n" } }));
    expect(cfg.lines.map((l) => [l.path, l.value, l.line])).toEqual([["kernel/a", "1 # c", 4], ["kernel/b", "2", 5]]);
  });

  test("systemd-sysctl/AC-07: keys are normalised like sysctl_normalize + path_simplify", () => {
    expect(systemdSysctlNormalize("net.ipv4.conf.eth0/100.rp_filter")).toBe("net/ipv4/conf/eth0.100/rp_filter");
    expect(systemdSysctlNormalize("net/ipv4/conf/eth0.100/rp_filter")).toBe("net/ipv4/conf/eth0.100/rp_filter");
    expect(systemdSysctlNormalize("/net/ipv4//ip_forward/")).toBe("net/ipv4/ip_forward");
    expect(systemdSysctlNormalize("net.ipv4..ip_forward")).toBe("net/ipv4/ip_forward");
  });

  test("systemd-sysctl/AC-08: glob(3) matching: per component, a leading dot only literally", () => {
    expect(globPathMatches("net/ipv4/conf/*/rp_filter", "net/ipv4/conf/all/rp_filter")).toBe(true);
    expect(globPathMatches("net/ipv4/conf/*/rp_filter", "net/ipv4/conf/.x/rp_filter")).toBe(false);
    expect(globPathMatches("net/ipv4/*", "net/ipv4/conf/all")).toBe(false);
    expect(fnmatch("[!a]*", "default")).toBe(true);
    expect(fnmatch("[]a]", "]")).toBe(true);
    expect(fnmatch("a[", "a[")).toBe(true);
    expect(fnmatch("usb[-_]storage", "usb_storage")).toBe(true);
    expect(fnmatch("cram\\*", "cramfs")).toBe(false);
    expect(fnmatch("[[:alpha:]]x", "ax")).toBe(true);
  });
});
