import { describe, expect, test } from "bun:test";
import {
  type ConfDir,
  evaluateModprobe,
  isDisablingCommand,
  kmodLines,
  kmodUnderscores,
  KMOD28_DIRS,
  KMOD30_DIRS,
  kmodDirsFor,
  moduleConfig,
  probeAction,
  renderModprobeC,
} from "../../src/config/modprobe.ts";
import { kernelModuleName } from "../../src/rules/validators.ts";

const E = "/etc/modprobe.d";
const U = "/usr/lib/modprobe.d";
const L = "/lib/modprobe.d";

/** Build evaluator input: { dir: { file: content } } in the given (precedence) order. */
function tree(spec: Record<string, Record<string, string>>): ConfDir[] {
  return Object.entries(spec).map(([path, files]) => ({
    path,
    files: Object.entries(files).map(([name, content]) => ({ name, content })),
  }));
}

describe("modprobe-config", () => {
  test("modprobe-config/AC-01: only .conf/.alias files that are not hidden are read", () => {
    const cfg = evaluateModprobe(
      tree({ [E]: { "a.conf": "blacklist a\n", "b.alias": "blacklist b\n", "c.txt": "blacklist c\n", ".d.conf": "blacklist d\n", "e.conf.bak": "blacklist e\n" } }),
    );
    expect(cfg.files).toEqual([`${E}/a.conf`, `${E}/b.alias`]);
    expect(cfg.blacklists.map((b) => b.module)).toEqual(["a", "b"]);
  });

  test("modprobe-config/AC-02: a file name in an earlier directory masks the same name later", () => {
    const cfg = evaluateModprobe(
      tree({ [E]: { "x.conf": "install cramfs /bin/false\n" }, [U]: { "x.conf": "install cramfs /bin/sh\n", "y.conf": "blacklist y\n" } }),
    );
    expect(cfg.files).toEqual([`${E}/x.conf`, `${U}/y.conf`]);
    expect(moduleConfig(cfg, "cramfs").install?.command).toBe("/bin/false");
  });

  test("modprobe-config/AC-03: surviving files are read in byte order of name across directories", () => {
    const cfg = evaluateModprobe(
      tree({ [E]: { "b.conf": "", "Z.conf": "" }, [U]: { "a.conf": "", "_.conf": "" }, [L]: { "10.conf": "", "~.conf": "" } }),
    );
    expect(cfg.files).toEqual([`${L}/10.conf`, `${E}/Z.conf`, `${U}/_.conf`, `${U}/a.conf`, `${E}/b.conf`, `${L}/~.conf`]);
  });

  test("modprobe-config/AC-04: the first install line for a module wins, later ones are kept as dead", () => {
    const cfg = evaluateModprobe(
      tree({
        [E]: { "bulwark-usb.conf": "install usb-storage /bin/false\nblacklist usb-storage\n" },
        [U]: { "00-vendor.conf": "install usb_storage /sbin/modprobe --ignore-install usb-storage\n" },
      }),
    );
    const m = moduleConfig(cfg, "usb-storage");
    expect(m.install).toEqual({ file: `${U}/00-vendor.conf`, line: 1, module: "usb_storage", command: "/sbin/modprobe --ignore-install usb-storage", glob: false });
    expect(m.installs.map((i) => i.file)).toEqual([`${U}/00-vendor.conf`, `${E}/bulwark-usb.conf`]);
    expect(m.blacklist?.file).toBe(`${E}/bulwark-usb.conf`);
  });

  test("modprobe-config/AC-05: '-' and '_' are one name in files and in the query", () => {
    const cfg = evaluateModprobe(tree({ [E]: { "a.conf": "blacklist usb-storage\ninstall usb-storage /bin/true\n" } }));
    expect(moduleConfig(cfg, "usb_storage").blacklist?.module).toBe("usb_storage");
    expect(moduleConfig(cfg, "usb-storage").install?.command).toBe("/bin/true");
    expect(kernelModuleName("a-b_c-d")).toBe("a_b_c_d");
    // kmod leaves '-' inside [...] alone and refuses a stray ']'.
    expect(kmodUnderscores("x[a-b]-c")).toBe("x[a-b]_c");
    expect(kmodUnderscores("y]z")).toBeNull();
    expect(kmodUnderscores("q[a-")).toBeNull();
    expect(() => kernelModuleName("bad/name")).toThrow(/invalid module name/);
  });

  test("modprobe-config/AC-06: backslash-newline joins lines; the line number is the first physical line", () => {
    const text = "# c\ninstall cramfs \\\n/bin/false\nbla\\\ncklist cra\\mfs\n";
    expect(kmodLines(text)).toEqual([
      { text: "# c", line: 1 },
      { text: "install cramfs /bin/false", line: 2 },
      { text: "blacklist cramfs", line: 4 },
    ]);
    const cfg = evaluateModprobe(tree({ [E]: { "a.conf": text } }));
    expect(moduleConfig(cfg, "cramfs").install).toMatchObject({ line: 2, command: "/bin/false" });
    expect(moduleConfig(cfg, "cramfs").blacklist).toMatchObject({ line: 4 });
    // A backslash at end of file is kept by kmod as byte 0xFF.
    expect(kmodLines("blacklist x\\")[0]!.text).toBe("blacklist x\xff");
  });

  test("modprobe-config/AC-07: comments, blank and bad lines are skipped; install keeps its command verbatim", () => {
    const text = [
      "# install cramfs /bin/sh",
      "   # indented comment (kmod: bad line, ignored)",
      "",
      "   ",
      "blacklist",
      "install onlyname",
      "install onlyname ",
      "frobnicate x",
      "options cramfs a=1",
      "install  cramfs \t /bin/false  # CIS",
      "blacklist cramfs trailing words",
    ].join("\n");
    const cfg = evaluateModprobe(tree({ [E]: { "a.conf": text } }));
    expect(renderModprobeC(cfg)).toEqual(["blacklist cramfs", "install cramfs \t /bin/false  # CIS"]);
    expect(cfg.bad.map((b) => b.line)).toEqual([2, 5, 6, 7, 8]);
    expect(moduleConfig(cfg, "cramfs").install?.line).toBe(10);
  });

  test("modprobe-config/AC-08: isDisablingCommand accepts false/true in /bin, /usr/bin or bare, nothing else", () => {
    for (const ok of ["/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true", "false", "true", "\t /bin/false  ", "/bin/true # CIS 1.1.1"])
      expect(isDisablingCommand(ok)).toBe(true);
    for (const bad of [
      "/sbin/modprobe --ignore-install cramfs",
      "/bin/false; modprobe --ignore-install cramfs",
      "/bin/false && x",
      "/bin/falsey",
      "/usr/local/bin/false",
      "exit 1",
      "/bin/sh -c false",
      "",
      "/bin/true#x",
    ])
      expect(isDisablingCommand(bad)).toBe(false);
  });

  test("modprobe-config/AC-12: install names are fnmatch patterns, the first match wins; blacklist names are compared exactly", () => {
    const cfg = evaluateModprobe(
      tree({
        [E]: {
          "00-aaa.conf": "install cram* /sbin/modprobe --ignore-install cramfs\ninstall usb[-_]storage /bin/echo loaded\nblacklist cram*\n",
          "99-bulwark-cramfs.conf": "install cramfs /bin/false\nblacklist cramfs\n",
        },
      }),
    );
    const m = moduleConfig(cfg, "cramfs");
    expect(m.install).toMatchObject({ file: `${E}/00-aaa.conf`, line: 1, module: "cram*", glob: true });
    expect(m.installs.map((i) => i.line)).toEqual([1, 1]);
    expect(m.blacklist).toMatchObject({ file: `${E}/99-bulwark-cramfs.conf`, module: "cramfs" });
    expect(moduleConfig(cfg, "usb-storage").install?.command).toBe("/bin/echo loaded");
    expect(probeAction(cfg, "cramfs")).toEqual({ kind: "install", command: "/sbin/modprobe --ignore-install cramfs", options: "" });
    // a blacklist pattern blacklists nothing but a module literally named so
    expect(moduleConfig(evaluateModprobe(tree({ [E]: { "a.conf": "blacklist cram*\n" } })), "cramfs").blacklist).toBeNull();
  });

  test("modprobe-config/AC-13: kmod's own directory list: /usr/lib/modprobe.d is not one; kmod 28 (RHEL 9) lacks /usr/local/lib", () => {
    expect(KMOD30_DIRS).toEqual(["/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d"]);
    expect(KMOD28_DIRS).toEqual(["/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d"]);
    expect(kmodDirsFor('ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n')).toBe(KMOD28_DIRS);
    expect(kmodDirsFor('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n')).toBe(KMOD28_DIRS);
    expect(kmodDirsFor("ID=debian\nVERSION_ID=\"12\"\n")).toBe(KMOD30_DIRS);
    expect(kmodDirsFor("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n")).toBe(KMOD30_DIRS);
    expect(kmodDirsFor(null)).toBe(KMOD30_DIRS);
  });

  test("modprobe-config/AC-14: options lines are collected per exact name, tabs as spaces; CRLF and trailing comments stay in commands", () => {
    const cfg = evaluateModprobe(tree({ [E]: { "a.conf": "options cramfs a=1\toff\r\noptions cram* b=2\ninstall cramfs /bin/false # policy\r\n" } }));
    expect(cfg.options.map((o) => [o.module, o.options])).toEqual([["cramfs", "a=1 off\r"], ["cram*", "b=2"]]);
    expect(probeAction(cfg, "cramfs")).toEqual({ kind: "install", command: "/bin/false # policy\r", options: "a=1 off\r " });
    expect(isDisablingCommand("/bin/false # policy\r")).toBe(false);
  });
});
