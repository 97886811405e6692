/**
 * mount_option_set / mount_option on copies of the REAL Debian 12 image, both
 * paths, through the CLI (source tree): the shipped mount rules are checked,
 * remediated and rolled back; util-linux judges every fstab (findmnt --verify
 * and findmnt -s --tab-file) and the image must come back byte-identical.
 * Two fstabs: the image's own (one comment line: /dev/shm gets its tmpfs
 * line, the others are not applicable), and one as an installer writes it
 * (separate /home, /tmp, /var/tmp), where every rule edits an entry.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFstab } from "../../src/config/fstab.ts";
import { copyImage, digestDiff, IMAGE_PREREQUISITE, imageToolsPresent, treeDigest, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";

const have = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent()) && prerequisite("findmnt (util-linux)", Bun.which("findmnt") !== null);
const REPO = join(import.meta.dir, "../..");
const SLOW = 10 * 60_000;
const MOUNT_RULES = ["dev-shm-nodev", "dev-shm-nosuid", "dev-shm-noexec", "tmp-nodev", "tmp-nosuid", "tmp-noexec", "var-tmp-nodev", "var-tmp-nosuid", "var-tmp-noexec", "home-nodev"].map((r) => `mount-${r}`);
const INSTALLER_FSTAB = `# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
# / was on /dev/vda1 during installation
UUID=0a1b2c3d-0000-4000-8000-000000000001 /               ext4    errors=remount-ro 0       1
# /home was on /dev/vda6 during installation
UUID=0a1b2c3d-0000-4000-8000-000000000006 /home           ext4    defaults        0       2
UUID=0a1b2c3d-0000-4000-8000-000000000007 /tmp            ext4    defaults        0       2
UUID=0a1b2c3d-0000-4000-8000-000000000008 /var/tmp        ext4    defaults,nodev  0       2
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
`;

function cli(args: string[]) {
  const r = Bun.spawnSync([process.execPath, join(REPO, "src/cli/main.ts"), ...args], { env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function findmnt(args: string[]) {
  const r = Bun.spawnSync(["findmnt", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString(), stdout: r.stdout.toString() };
}

/** findmnt -s over the image's fstab must equal our model, entry for entry. */
function agrees(root: string): void {
  const file = join(root, "etc/fstab");
  const r = findmnt(["-s", "--tab-file", file, "-J", "-o", "TARGET,OPTIONS"]);
  const theirs = r.stdout.trim() ? JSON.parse(r.stdout).filesystems.map((e: any) => ({ target: e.target, options: e.options ?? null })) : [];
  const ours = parseFstab(readFileSync(file, "latin1")).entries.map((e) => ({ target: e.target, options: e.options }));
  expect(theirs).toEqual(ours);
}

/** `findmnt --verify` error lines (parse errors and [E]), which our edit must not add to. */
const verifyErrors = (root: string) => findmnt(["--verify", "--tab-file", join(root, "etc/fstab")]).out.split("\n").filter((l) => l.includes("[E]") || l.includes("parse error"));

describe.skipIf(!have).each(["kernel-io", "shell"] as const)("shipped mount rules on the Debian 12 image, --path %s", (path) => {
  let img: ImageCopy | undefined;
  let state = "";
  // Removing a root file system copy outlasts a hook's 5 s on a loaded machine: give it room.
  afterEach(() => {
    img?.cleanup();
    if (state) rmSync(state, { recursive: true, force: true });
  }, 300_000);

  for (const kind of ["stock", "installer"] as const) {
    test(`mount-option/AC-09: ${kind} fstab: check, remediate, findmnt agrees and verifies, check passes, rollback is byte-identical`, () => {
      img = copyImage("debian12");
      state = mkdtempSync(join(tmpdir(), "bulwark-mount-state-"));
      if (kind === "installer") writeFileSync(join(img.root, "etc/fstab"), INSTALLER_FSTAB);
      const before = treeDigest(img.root);
      const errorsBefore = verifyErrors(img.root);
      const base = ["--root", img.root, "--path", path, "--state-dir", state, ...MOUNT_RULES.flatMap((r) => ["--rule", r])];
      const c = cli(["check", ...base, "--format", "json"]);
      const doc = JSON.parse(c.stdout);
      const status = Object.fromEntries(doc.results.map((x: any) => [x.rule, x.status]));
      if (kind === "stock") {
        expect(status).toEqual({
          ...Object.fromEntries(MOUNT_RULES.map((r) => [r, "skip"])),
          "mount-dev-shm-nodev": "fail", "mount-dev-shm-nosuid": "fail", "mount-dev-shm-noexec": "fail",
        });
      } else {
        expect(status).toEqual({ ...Object.fromEntries(MOUNT_RULES.map((r) => [r, "fail"])), "mount-var-tmp-nodev": "pass" });
      }
      const rem = cli(["remediate", ...base, "--format", "json"]);
      const rdoc = JSON.parse(rem.stdout);
      expect(rem.stderr).toBe("");
      const runId = rdoc.run_id;
      expect(typeof runId).toBe("number");
      agrees(img.root);
      expect(verifyErrors(img.root)).toEqual(errorsBefore);
      if (kind === "stock") {
        expect(findmnt(["--verify", "--tab-file", join(img.root, "etc/fstab")]).code).toBe(0);
        expect(readFileSync(join(img.root, "etc/fstab"), "latin1")).toEndWith("\ntmpfs /dev/shm tmpfs defaults,nodev,noexec,nosuid 0 0\n");
      } else {
        const opts = findmnt(["-s", "--tab-file", join(img.root, "etc/fstab"), "-n", "-o", "TARGET,OPTIONS", "-l"]).stdout;
        expect(opts).toContain("/home         defaults,nodev");
        expect(opts).toContain("/tmp          defaults,nodev,noexec,nosuid");
        expect(opts).toContain("/var/tmp      defaults,nodev,noexec,nosuid");
        expect(opts).toContain("/dev/shm      defaults,nodev,noexec,nosuid");
      }
      const after = JSON.parse(cli(["check", ...base, "--format", "json"]).stdout);
      expect(after.results.filter((x: any) => x.status === "fail" || x.status === "error")).toEqual([]);
      const rb = cli(["rollback", "--run", String(runId), "--root", img.root, "--path", path, "--state-dir", state, "--format", "json"]);
      expect(rb.stderr).toBe("");
      expect(JSON.parse(rb.stdout).rollbacks.every((x: any) => x.status === "rolled_back")).toBe(true);
      expect(digestDiff(before, treeDigest(img.root))).toEqual([]);
    }, SLOW);
  }
});
