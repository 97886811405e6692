import { describe, expect, test } from "bun:test";
import {
  addOptions, appendLine, effectiveFlags, entryFor, FstabEditRefused, parseFstab, removeOptions, shadowedEntries, splitOptions, tmpfsLine, undoAddOptions, unmangle,
} from "../../src/config/fstab.ts";
import { describeFlags, flagsFromOptions, parseMountInfo, topMount } from "../../src/config/mountinfo.ts";

const DEBIANISH = [
  "# /etc/fstab: static file system information.",
  "#",
  "# <file system> <mount point>   <type>  <options>       <dump>  <pass>",
  "UUID=1111 /               ext4    errors=remount-ro 0       1",
  "UUID=2222 /home           ext4    defaults        0       2",
  "  # indented comment",
  "",
  "tmpfs\t/tmp\ttmpfs\tdefaults,size=2G,mode=1777\t0\t0",
  "/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0",
  "",
].join("\n");

describe("fstab model", () => {
  test("fstab/AC-01: comments, blank lines, CRLF, tabs, octal escapes and a last line without newline", () => {
    const f = parseFstab("# c\r\n\r\n  \t\r\nLABEL=a\\040b /srv/my\\040files ext4 nodev 0 2\r\nx /q\\134r xfs rw\nz /last tmpfs rw\0junk ignored");
    expect(f.errors).toEqual([]);
    expect(f.entries.map((e) => [e.line, e.source, e.target, e.options, e.passno])).toEqual([
      [4, "LABEL=a b", "/srv/my files", "nodev", 2],
      [5, "x", "/q\\r", "rw", 0],
      [6, "z", "/last", "rw", 0],
    ]);
    expect(unmangle("a\\040b\\9\\01x\\")).toBe("a b\\9\\01x\\");
  });

  test("fstab/AC-02: too few fields or a bad freq/passno is a parse error; options are optional; extra fields are ignored", () => {
    const f = parseFstab("only\nsrc /t\nsrc /t3 ext4\nsrc /t4 ext4 rw 1x\nsrc /t5 ext4 rw 0 x\nsrc /t6 ext4 rw 0 2 extra fields\nsrc /t7 ext4 rw +1 -2\n");
    expect(f.errors.map((e) => e.line)).toEqual([1, 2, 4, 5]);
    expect(f.entries.map((e) => [e.target, e.options, e.freq, e.passno])).toEqual([
      ["/t3", null, 0, 0],
      ["/t6", "rw", 0, 2],
      ["/t7", "rw", 1, -2],
    ]);
  });

  test("fstab/AC-03: options split as libmount does, and the last of nodev/dev wins", () => {
    expect(splitOptions(',,a=1,"b,c",d=e=f,,x="y,z').map((o) => o.name)).toEqual(["a", '"b,c"', "d"]);
    expect(effectiveFlags("defaults,nodev")).toEqual({ nodev: true, nosuid: false, noexec: false });
    expect(effectiveFlags("nodev,dev,nosuid,exec,noexec")).toEqual({ nodev: false, nosuid: true, noexec: true });
    expect(effectiveFlags('nodev=1,"nodev",user')).toEqual({ nodev: false, nosuid: false, noexec: false });
    expect(effectiveFlags(null).nodev).toBe(false);
  });

  test("fstab/AC-04: the first entry for a mount point counts, with repeated and trailing slashes ignored", () => {
    const f = parseFstab("a //tmp/ tmpfs nodev\nb /tmp tmpfs rw\nc /tmpx tmpfs rw\n");
    expect(entryFor(f, "/tmp")?.source).toBe("a");
    expect(shadowedEntries(f, "/tmp").map((e) => e.line)).toEqual([2]);
    expect(entryFor(f, "/var/tmp")).toBeNull();
  });
});

describe("fstab edits", () => {
  test("fstab/AC-05: options are appended to the entry's field, every other byte kept; a three-field entry gets a fourth field", () => {
    const out = addOptions(DEBIANISH, 8, ["nodev", "nosuid", "noexec"]);
    expect(out).toBe(DEBIANISH.replace("defaults,size=2G,mode=1777\t", "defaults,size=2G,mode=1777,nodev,nosuid,noexec\t"));
    expect(addOptions(DEBIANISH, 5, ["nodev"])).toBe(DEBIANISH.replace("/home           ext4    defaults ", "/home           ext4    defaults,nodev "));
    expect(addOptions("a /t ext4\r\n", 1, ["nodev"])).toBe("a /t ext4 nodev\r\n");
    // Already in effect: nothing added; "dev" after "nodev" means it is not in effect.
    expect(addOptions("a /t ext4 nodev 0 0\n", 1, ["nodev"])).toBe("a /t ext4 nodev 0 0\n");
    expect(addOptions("a /t ext4 nodev,dev 0 0\n", 1, ["nodev"])).toBe("a /t ext4 nodev,dev,nodev 0 0\n");
  });

  test("fstab/AC-05: an options field in an unclosed quote is refused, naming the line", () => {
    expect(() => addOptions('# x\na /t ext4 context="a,b\n', 2, ["nodev"])).toThrow(FstabEditRefused);
    expect(() => addOptions('# x\na /t ext4 context="a,b\n', 2, ["nodev"])).toThrow("fstab line 2");
    expect(() => addOptions("# x\n", 1, ["nodev"])).toThrow("not an entry");
  });

  test("fstab/AC-06: the undo takes off exactly our options, keeps others' edits, and restores the bytes when nothing else changed", () => {
    const after = addOptions(DEBIANISH, 8, ["nodev", "noexec"]);
    expect(undoAddOptions(DEBIANISH, after, "/tmp", ["nodev", "noexec"])).toBe(DEBIANISH);
    // Someone added nosuid to /tmp and an option to /home since: both stay.
    const others = addOptions(addOptions(after, 8, ["nosuid"]), 5, ["nodev"]);
    expect(undoAddOptions(DEBIANISH, others, "/tmp", ["nodev", "noexec"])).toBe(addOptions(addOptions(DEBIANISH, 8, ["nosuid"]), 5, ["nodev"]));
    // The entry moved (a line inserted above): refuse.
    expect(undoAddOptions(DEBIANISH, "# new\n" + after, "/tmp", ["nodev"])).toBeNull();
    // Options that were already in effect were not ours to remove.
    const homeHad = DEBIANISH.replace("defaults        0       2", "defaults,nodev        0       2");
    expect(undoAddOptions(homeHad, addOptions(homeHad, 5, ["nodev", "nosuid"]), "/home", ["nodev", "nosuid"])).toBe(homeHad);
    expect(removeOptions("a /t ext4 nodev\n", 1, ["nodev"])).toBe("a /t ext4\n");
    expect(removeOptions("a /t ext4 rw\n", 1, ["nodev"])).toBeNull();
  });

  test("fstab/AC-06: the appended /dev/shm line goes again, with the newline added before it; others' options on it keep it", () => {
    for (const prior of ["", "# no final newline", "a / ext4 rw 0 1\n"]) {
      const line = tmpfsLine("/dev/shm", ["nodev"]);
      expect(line).toBe("tmpfs /dev/shm tmpfs defaults,nodev 0 0");
      const after = appendLine(prior, line);
      expect(parseFstab(after).entries.at(-1)?.target).toBe("/dev/shm");
      expect(undoAddOptions(prior, after, "/dev/shm", ["nodev"])).toBe(prior);
      const theirs = addOptions(after, parseFstab(after).entries.at(-1)!.line, ["nosuid"]);
      expect(undoAddOptions(prior, theirs, "/dev/shm", ["nodev"])).toBe(appendLine(prior, "tmpfs /dev/shm tmpfs defaults,nosuid 0 0"));
    }
  });
});

describe("mountinfo", () => {
  test("fstab/AC-07: escapes, optional fields, per-mount flags and the mount on top of a stack", () => {
    const text = [
      "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
      "30 22 0:25 / /srv/a\\040b ro,noatime,nodiratime master:1 shared:2 - tmpfs my\\040src rw,size=10k",
      "40 1 0:30 / /tmp rw,nosuid - tmpfs tmpfs rw",
      "41 40 0:31 / /tmp rw,nodev,noexec,nosymfollow - tmpfs tmpfs rw",
      "garbage line",
      "",
    ].join("\n");
    const m = parseMountInfo(text);
    expect(m.map((e) => e.target)).toEqual(["/proc", "/srv/a b", "/tmp", "/tmp"]);
    expect(m[1]!.source).toBe("my src");
    expect(m[1]!.flags).toEqual({ ro: true, nosuid: false, nodev: false, noexec: false, nodiratime: true, nosymfollow: false, atime: "noatime" });
    expect(topMount(m, "/tmp")!.id).toBe(41);
    expect(describeFlags(topMount(m, "/tmp")!.flags)).toBe("rw,nodev,noexec,nosymfollow");
    expect(topMount(m, "/var")).toBeNull();
    expect(describeFlags(flagsFromOptions("rw,nosuid,nodev,noexec,relatime"))).toBe("rw,nosuid,nodev,noexec,relatime");
  });

  test("fstab/AC-07: on this machine's own mount table, targets and VFS options equal findmnt --kernel's", () => {
    const r = Bun.spawnSync(["findmnt", "--kernel", "-J", "-l", "-o", "TARGET,VFS-OPTIONS"], { stdout: "pipe" });
    const theirs = (JSON.parse(r.stdout.toString()).filesystems as { target: string; "vfs-options": string }[]).map((e) => [e.target, e["vfs-options"]]);
    const ours = parseMountInfo(require("node:fs").readFileSync("/proc/self/mountinfo", "latin1")).map((e) => [e.target, describeFlags(e.flags)]);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });
});

test("fstab/AC-06: two edits captured from one prior text (one rule, two steps) undo in reverse order to the prior bytes, without a final newline too", () => {
  const prior = "# t\ntmpfs\t/tmp\ttmpfs\tdefaults";
  const one = addOptions(prior, 2, ["nodev"]);
  const two = appendLine(one, tmpfsLine("/dev/shm", ["nodev", "noexec"]));
  const undoTwo = undoAddOptions(prior, two, "/dev/shm", ["nodev", "noexec"]);
  expect(undoTwo).toBe(one);
  expect(undoAddOptions(prior, undoTwo!, "/tmp", ["nodev"])).toBe(prior);
});
