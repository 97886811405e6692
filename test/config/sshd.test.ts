/**
 * Fixed examples of sshd_config semantics (config/sshd.ts). Each fact was
 * read in OpenSSH 9.2's source and checked against Debian's sshd -T; the
 * property test (sshd.property.test.ts) judges the same code on random trees.
 */
import { describe, expect, test } from "bun:test";
import { assembleAlgorithms, evaluateSshd, overridersOf, printedSshdValue, type SshdTree, wouldDecide } from "../../src/config/sshd.ts";

/** A complete tree from path → content; every parent directory is listed. */
export function treeOf(files: Record<string, string>): SshdTree {
  const dirs = new Map<string, string[]>();
  const add = (dir: string, name: string) => {
    const l = dirs.get(dir) ?? [];
    if (!l.includes(name)) l.push(name);
    dirs.set(dir, l);
  };
  for (const p of Object.keys(files)) {
    const parts = p.split("/").filter(Boolean);
    for (let i = 0; i < parts.length; i++) add("/" + parts.slice(0, i).join("/"), parts[i]!);
  }
  for (const p of Object.keys(files)) if (p.endsWith("/")) dirs.set(p.slice(0, -1), dirs.get(p.slice(0, -1)) ?? []);
  return { files: new Map(Object.entries(files).filter(([p]) => !p.endsWith("/"))), dirs, complete: true };
}

const MAIN = "/etc/ssh/sshd_config";
const ev = (files: Record<string, string>) => evaluateSshd(treeOf(files));
const val = (files: Record<string, string>, k: string) => {
  const c = ev(files);
  expect(c.errors).toEqual([]);
  return c.values.get(k)!;
};

describe("first value wins", () => {
  test("sshd-config/AC-01: a drop-in included at the top beats a later line; an earlier line beats the drop-in", () => {
    const dropin = { "/etc/ssh/sshd_config.d/50-x.conf": "PermitRootLogin no\n" };
    const top = val({ ...dropin, [MAIN]: "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n" }, "permitrootlogin");
    expect(top.value).toBe("no");
    expect(top.source).toEqual({ file: "/etc/ssh/sshd_config.d/50-x.conf", line: 1 });
    const bottom = val({ ...dropin, [MAIN]: "PermitRootLogin yes\nInclude /etc/ssh/sshd_config.d/*.conf\n" }, "permitrootlogin");
    expect(bottom.value).toBe("yes");
    expect(bottom.source).toEqual({ file: MAIN, line: 1 });
    expect(val({ [MAIN]: "# nothing\n" }, "permitrootlogin")).toEqual({ keyword: "permitrootlogin", value: "without-password", source: null, sources: [] });
  });
});

describe("Include", () => {
  test("sshd-config/AC-02: globs relative to /etc/ssh, byte order, no dot files, silent no-match, several patterns, nesting, a directory reads empty", () => {
    const files = {
      "/etc/ssh/sshd_config.d/b.conf": "MaxAuthTries 2\n",
      "/etc/ssh/sshd_config.d/B.conf": "MaxAuthTries 3\n", // "B" < "b" in byte order
      "/etc/ssh/sshd_config.d/.a.conf": "MaxAuthTries 1\nLogLevel ERROR\n",
      "/etc/ssh/inc/x.conf": "Include inc/sub/*\n",
      "/etc/ssh/inc/sub/y": "LogLevel VERBOSE\n",
      "/etc/ssh/dir.conf/": "",
      [MAIN]: "Include dir.conf nothing/*.conf sshd_config.d/*.conf\nInclude /etc/ssh/inc/*.conf\n",
    };
    const c = ev(files);
    expect(c.errors).toEqual([]);
    expect(c.values.get("maxauthtries")!.value).toBe("3");
    expect(c.values.get("loglevel")!.value).toBe("VERBOSE");
    expect(c.reads.map((r) => r.file)).toEqual([MAIN, "/etc/ssh/dir.conf", "/etc/ssh/sshd_config.d/B.conf", "/etc/ssh/sshd_config.d/b.conf", "/etc/ssh/inc/x.conf", "/etc/ssh/inc/sub/y"]);
  });

  test("sshd-config/AC-04: an Include inside a non-matching Match reads its files but none of their lines counts, not even after their own Match all", () => {
    const c = ev({
      "/etc/ssh/a.conf": "MaxAuthTries 2\nMatch all\nMaxAuthTries 3\n",
      [MAIN]: "Match User bob\nInclude a.conf\nMatch all\nPermitRootLogin no\n",
    });
    expect(c.errors).toEqual([]);
    expect(c.reads.map((r) => [r.file, r.active])).toEqual([[MAIN, true], ["/etc/ssh/a.conf", false]]);
    expect(c.values.get("maxauthtries")!.value).toBe("6");
    expect(c.values.get("permitrootlogin")!.value).toBe("no");
    // …and their errors still count.
    expect(ev({ "/etc/ssh/a.conf": "NoSuchThing 1\n", [MAIN]: "Match User bob\nInclude a.conf\n" }).errors.join()).toContain("Bad configuration option: NoSuchThing");
  });
});

describe("Match", () => {
  test("sshd-config/AC-03: criteria blocks never count; Match all counts and overrides for Match-able options; a Match ends with its included file", () => {
    expect(val({ [MAIN]: "Match User bob\nMaxAuthTries 2\n" }, "maxauthtries").value).toBe("6");
    const over = val({ [MAIN]: "MaxAuthTries 3\nMatch all\nMaxAuthTries 5\n" }, "maxauthtries");
    expect(over).toMatchObject({ value: "5", source: { file: MAIN, line: 3 } });
    // A global-only option under Match all counts only as an ordinary first-wins line.
    expect(val({ [MAIN]: "UsePAM no\nMatch all\nUsePAM yes\n" }, "usepam").value).toBe("no");
    expect(val({ [MAIN]: "Match all\nUsePAM yes\n" }, "usepam").value).toBe("yes");
    // Lists set under Match all replace the global list.
    expect(val({ [MAIN]: "AcceptEnv A\nMatch all\nAcceptEnv B\n" }, "acceptenv").value).toBe("B");
    // The Match inside a.conf ends with a.conf: the next line of the main file is global again.
    expect(val({ "/etc/ssh/a.conf": "Match User bob\n", [MAIN]: "Include a.conf\nMaxAuthTries 5\n" }, "maxauthtries").value).toBe("5");
  });
});

describe("reading lines", () => {
  test("sshd-config/AC-05: case, aliases, = forms, quotes, comments, CRLF, leading blanks, NUL", () => {
    expect(val({ [MAIN]: "  pErMiTrOoTlOgIn=No\r\n" }, "permitrootlogin").value).toBe("no");
    expect(val({ [MAIN]: "\tMaxAuthTries = \"4\" # four\n" }, "maxauthtries").value).toBe("4");
    expect(val({ [MAIN]: "LogLevel= 'verbose'\n" }, "loglevel").value).toBe("VERBOSE");
    expect(val({ [MAIN]: "ChallengeResponseAuthentication no\n" }, "kbdinteractiveauthentication").value).toBe("no");
    expect(val({ [MAIN]: "PubkeyAcceptedKeyTypes ssh-ed25519\n" }, "pubkeyacceptedalgorithms").value).toBe("ssh-ed25519");
    expect(val({ [MAIN]: "#PermitRootLogin yes\n# MaxAuthTries 2\n\n" }, "permitrootlogin").source).toBeNull();
    // A NUL ends the line's content and swallows its newline: the next line is glued on (both as Debian's sshd -T says).
    expect(ev({ [MAIN]: "MaxAuthTries 2\0junk\nPermitRootLogin no\n" }).errors.join()).toContain("line 1: MaxAuthTries integer value invalid");
    expect(ev({ [MAIN]: "MaxAuthTries 2 \0junk\nPermitRootLogin no\n" }).errors.join()).toContain("line 1: keyword MaxAuthTries extra arguments");
  });
});

describe("algorithm lists", () => {
  test("sshd-config/AC-06: + appends, - removes by pattern, ^ prepends, explicit lists expand patterns in order without duplicates", () => {
    const def = val({ [MAIN]: "" }, "ciphers").value;
    expect(val({ [MAIN]: "Ciphers +aes128-cbc\n" }, "ciphers").value).toBe(`${def},aes128-cbc`);
    expect(val({ [MAIN]: "Ciphers -aes*\n" }, "ciphers").value).toBe("chacha20-poly1305@openssh.com");
    expect(val({ [MAIN]: "Ciphers ^aes256-ctr\n" }, "ciphers").value).toBe(`aes256-ctr,${def.split(",").filter((c) => c !== "aes256-ctr").join(",")}`);
    expect(val({ [MAIN]: "Ciphers aes256-ctr,aes128-ctr,aes256-ctr\n" }, "ciphers").value).toBe("aes256-ctr,aes128-ctr");
    expect(val({ [MAIN]: "PubkeyAcceptedAlgorithms rsa-sha2-*,ssh-ed25519\n" }, "pubkeyacceptedalgorithms").value).toBe(
      "rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com,ssh-ed25519",
    );
    expect(assembleAlgorithms("-!a,*", "a,b,c", "a,b,c")).toBe("a");
    expect(ev({ [MAIN]: "Ciphers rot13\n" }).errors.join()).toContain("Bad Ciphers 'rot13'");
  });
});

describe("accumulating and odd keywords", () => {
  test("sshd-config/AC-07: lists accumulate, AuthorizedKeysFile first line, MaxStartups last wins, RekeyLimit fields independent", () => {
    const acc = val({ [MAIN]: "AcceptEnv LANG LC_*\nAcceptEnv TZ\nMatch User x\nAcceptEnv NO\n" }, "acceptenv");
    expect(acc.value).toBe("LANG LC_* TZ");
    expect(acc.sources).toEqual([{ file: MAIN, line: 1 }, { file: MAIN, line: 2 }]);
    expect(val({ [MAIN]: "HostKey /k1\nHostKey /k2\n" }, "hostkey").value).toBe("/k1 /k2");
    expect(val({ [MAIN]: "Subsystem sftp internal-sftp -l INFO\nSubsystem b /bin/true\n" }, "subsystem").value).toBe("sftp internal-sftp -l INFO\nb /bin/true");
    expect(val({ [MAIN]: "AuthorizedKeysFile a b\nAuthorizedKeysFile c\n" }, "authorizedkeysfile").value).toBe("a b");
    expect(val({ [MAIN]: "MaxStartups 10:50:60\nMaxStartups 20\n" }, "maxstartups")).toMatchObject({ value: "20:50:20", source: { file: MAIN, line: 2 } });
    expect(val({ [MAIN]: "RekeyLimit 1G\nRekeyLimit 2G 1h\n" }, "rekeylimit").value).toBe("1073741824 3600");
  });

  test("sshd-config/AC-08: values are printed as sshd -T prints them", () => {
    expect(printedSshdValue("PermitRootLogin", "prohibit-password")).toBe("without-password");
    expect(printedSshdValue("LogLevel", "debug")).toBe("DEBUG");
    expect(printedSshdValue("LogLevel", "quiet")).toBe("SILENT");
    expect(printedSshdValue("LoginGraceTime", "1m30s")).toBe("90");
    expect(printedSshdValue("RekeyLimit", "1G 1h")).toBe("1073741824 3600");
    expect(printedSshdValue("Compression", "delayed")).toBe("yes");
    expect(printedSshdValue("PermitUserEnvironment", "YES")).toBe("YES"); // strcmp: a pattern, not "yes"
    expect(printedSshdValue("MaxAuthTries", "many")).toBeNull();
    expect(val({ [MAIN]: "" }, "maxstartups").value).toBe("10:30:100");
    expect(val({ [MAIN]: "" }, "rekeylimit").value).toBe("0 0");
  });
});

describe("refusals", () => {
  test("sshd-config/AC-09: what sshd refuses is an error naming file and line; Match LocalPort only for sshd -T", () => {
    const err = (files: Record<string, string>) => ev(files).errors.join("\n");
    expect(err({ [MAIN]: "NoSuch yes\n" })).toContain(`${MAIN} line 1: Bad configuration option: NoSuch`);
    expect(err({ [MAIN]: "\nPermitRootLogin maybe\n" })).toContain(`${MAIN} line 2: unsupported option "maybe"`);
    expect(err({ [MAIN]: "X11Forwarding yes no\n" })).toContain("extra arguments");
    expect(err({ [MAIN]: "Match User x\nCiphers aes128-ctr\n" })).toContain("is not allowed within a Match block");
    expect(err({ [MAIN]: "Include sshd_config\n" })).toContain("Too many recursive configuration includes");
    expect(err({ [MAIN]: "Subsystem a /x\nSubsystem a /y\n" })).toContain("Subsystem 'a' already defined");
    expect(err({ [MAIN]: "PermitRootLogin\n" })).toContain("no argument after keyword");
    const lport = ev({ [MAIN]: "Match LocalPort 2222\nMaxAuthTries 2\nMatch all\nMaxAuthTries 3\n" });
    expect(lport.errors).toEqual([]);
    expect(lport.testOnlyErrors.join()).toContain("LocalPort");
    expect(lport.values.get("maxauthtries")!.value).toBe("3"); // the daemon's value for other ports: Match all still applies
    expect(ev({}).errors.join()).toContain("No such file");
  });
});

describe("who wins", () => {
  test("sshd-config/AC-10: overridersOf names the lines that beat a drop-in; wouldDecide answers for a new file", () => {
    const files = {
      "/etc/ssh/sshd_config.d/00-early.conf": "PermitRootLogin yes\n",
      "/etc/ssh/sshd_config.d/50-ours.conf": "X11Forwarding no\n",
      [MAIN]: "PermitRootLogin prohibit-password\nInclude sshd_config.d/*.conf\nPermitRootLogin no\nMaxStartups 5\nMatch User x\nInclude /etc/ssh/late/*.conf\n",
      "/etc/ssh/late/z.conf": "",
    };
    const c = ev(files);
    expect(overridersOf(c, "PermitRootLogin", "/etc/ssh/sshd_config.d/50-ours.conf")).toEqual([
      { file: MAIN, line: 1 },
      { file: "/etc/ssh/sshd_config.d/00-early.conf", line: 1 },
    ]);
    expect(overridersOf(c, "MaxStartups", "/etc/ssh/sshd_config.d/50-ours.conf")).toEqual([{ file: MAIN, line: 4 }]);
    expect(overridersOf(c, "PermitRootLogin", "/etc/ssh/late/z.conf")).toBeNull();
    // A later `Match all` line beats a drop-in too (sshd -T's second pass), wherever it sits.
    const all = ev({ ...files, [MAIN]: "Include sshd_config.d/*.conf\nMatch all\nPermitRootLogin yes\n" });
    expect(overridersOf(all, "PermitRootLogin", "/etc/ssh/sshd_config.d/50-ours.conf")).toEqual([
      { file: "/etc/ssh/sshd_config.d/00-early.conf", line: 1 },
      { file: MAIN, line: 3 },
    ]);
    expect(overridersOf(c, "PermitRootLogin", "/etc/ssh/nowhere.conf")).toBeNull();
    const tree = treeOf(files);
    expect(wouldDecide(tree, "X11Forwarding", "/etc/ssh/sshd_config.d/00-bulwark.conf", "X11Forwarding yes\n", 1)).toBe(true);
    expect(wouldDecide(tree, "PermitRootLogin", "/etc/ssh/sshd_config.d/00-bulwark.conf", "PermitRootLogin no\n", 1)).toBe(false);
    expect(wouldDecide(tree, "PermitRootLogin", "/etc/ssh/sshd_config.d/00-bulwark.conf", "PermitRootLogin nope\n", 1)).toBe(false);
  });

  test("sshd-config/AC-11: an incomplete tree lists what it needs instead of guessing", () => {
    const partial: SshdTree = { files: new Map([[MAIN, "Include sshd_config.d/*.conf\n"]]), dirs: new Map() };
    const c = evaluateSshd(partial);
    expect(c.needs).toContain("/etc/ssh/sshd_config.d");
    expect(evaluateSshd({ files: new Map(), dirs: new Map() }).needs).toEqual([MAIN]);
  });
});

/**
 * Every configuration keyword Debian's sshd 9.2p1 knows: each lower-case name
 * in the binary's strings that `sshd -T` does not call "Bad configuration option"
 * (collected once with the image's sshd; 438 candidates asked).
 */
const DEBIAN_SSHD_KEYWORDS = [
  "acceptenv", "addressfamily", "afstokenpassing", "allowagentforwarding", "allowgroups", "allowstreamlocalforwarding",
  "allowtcpforwarding", "allowusers", "authenticationmethods", "authorizedkeyscommand", "authorizedkeyscommanduser", "authorizedkeysfile",
  "authorizedkeysfile2", "authorizedprincipalscommand", "authorizedprincipalscommanduser", "authorizedprincipalsfile",
  "casignaturealgorithms", "challengeresponseauthentication", "channeltimeout", "checkmail", "chrootdirectory", "ciphers",
  "clientalivecountmax", "clientaliveinterval", "compression", "debianbanner", "denygroups", "denyusers", "disableforwarding",
  "dsaauthentication", "exposeauthinfo", "fingerprinthash", "forcecommand", "gatewayports", "gssapiauthentication",
  "gssapicleanupcredentials", "gssapicleanupcreds", "gssapikexalgorithms", "gssapikeyexchange", "gssapistorecredentialsonrekey",
  "gssapistrictacceptorcheck", "gssapiusesessioncredcache", "gssusesessionccache", "hostbasedacceptedalgorithms",
  "hostbasedacceptedkeytypes", "hostbasedauthentication", "hostbasedusesnamefrompacketonly", "hostcertificate", "hostdsakey",
  "hostkeyagent", "hostkeyalgorithms", "ignorerhosts", "ignoreuserknownhosts", "include", "ipqos", "kbdinteractiveauthentication",
  "kerberosauthentication", "kerberosgetafstoken", "kerberosorlocalpasswd", "kerberostgtpassing", "kerberosticketcleanup",
  "keyregenerationinterval", "listenaddress", "logingracetime", "loglevel", "logverbose", "macs", "maxauthtries", "maxsessions",
  "modulifile", "pamauthenticationviakbdint", "passwordauthentication", "permitblacklistedkeys", "permitemptypasswords", "permitrootlogin",
  "permittty", "permittunnel", "permituserenvironment", "permituserrc", "persourcemaxstartups", "persourcenetblocksize", "pidfile",
  "printlastlog", "printmotd", "protocol", "pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes", "pubkeyauthentication",
  "pubkeyauthoptions", "rdomain", "rekeylimit", "requiredrsasize", "reversemappingcheck", "revokedkeys", "rhostsauthentication",
  "rhostsrsaauthentication", "securitykeyprovider", "serverkeybits", "setenv", "skeyauthentication", "streamlocalbindmask",
  "streamlocalbindunlink", "strictmodes", "subsystem", "syslogfacility", "tcpkeepalive", "trustedusercakeys", "unusedconnectiontimeout",
  "usedns", "uselogin", "usepam", "useprivilegeseparation", "verifyreversemapping", "versionaddendum", "x11displayoffset", "x11forwarding",
  "x11uselocalhost", "xauthlocation",
];

describe("keyword table", () => {
  test("sshd-config/AC-13: every keyword Debian's sshd knows is recognised, and other names are refused", () => {
    expect(DEBIAN_SSHD_KEYWORDS.length).toBe(118);
    for (const k of DEBIAN_SSHD_KEYWORDS) {
      const errors = ev({ [MAIN]: `${k} x\n` }).errors.join("\n");
      expect({ k, unknown: errors.includes("Bad configuration option") }).toEqual({ k, unknown: false });
    }
    for (const k of ["permitrootlogn", "ssh", "sshd", "listen", "setenvs", "hostkeys"]) {
      expect(ev({ [MAIN]: `${k} x\n` }).errors.join()).toContain(`Bad configuration option: ${k}`);
    }
  });
});
