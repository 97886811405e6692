/**
 * Random sshd_config trees for the property test: a main file, a drop-in
 * directory and a second include directory with a subdirectory, written
 * with every spelling sshd accepts (case, `=`, quotes, comments, CRLF,
 * leading blanks), Include globs (relative, absolute, several per line,
 * nested, inside Match), Match blocks, duplicates, + / - / ^ algorithm lists,
 * and now and then a deliberate error sshd must refuse.
 */
import type { Prng } from "./prng.ts";

export interface GenFile {
  path: string; // logical, under /etc/ssh
  content: string;
}

const CIPHERS = ["aes128-ctr", "aes256-ctr", "aes192-ctr", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-cbc", "3des-cbc"];
const MACS = ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "umac-128@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-md5", "umac-64-etm@openssh.com"];
const KEX = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group1-sha1", "sntrup761x25519-sha512@openssh.com", "diffie-hellman-group-exchange-sha1"];
const KEYS = ["ssh-ed25519", "rsa-sha2-256", "rsa-sha2-512", "ecdsa-sha2-nistp256", "ssh-rsa", "ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com", "ssh-dss"];
const KEY_PATTERNS = ["ssh-ed25519*", "*-cert-v01@openssh.com", "ecdsa-sha2-nistp???", "rsa-sha2-*"];
const DENY_PATTERNS = ["*-cbc", "aes*", "*sha1*", "hmac-md5*", "*@openssh.com", "diffie-hellman-*", "ssh-rsa*", "*-cert-*", "!aes128-ctr,aes*", "umac-*,!umac-128*"];

function list(r: Prng, pool: readonly string[]): string {
  const n = 1 + r.int(3);
  return Array.from({ length: n }, () => r.pick(pool)).join(",");
}

function algos(r: Prng, pool: readonly string[], patterns: readonly string[] = []): string {
  switch (r.int(5)) {
    case 0:
      return "+" + list(r, [...pool, ...patterns]);
    case 1:
      return "-" + r.pick([...DENY_PATTERNS, ...pool]);
    case 2:
      return "^" + list(r, [...pool, ...patterns]);
    default:
      return list(r, [...pool, ...patterns]);
  }
}

const FLAGS = ["PermitEmptyPasswords", "HostbasedAuthentication", "PubkeyAuthentication", "X11Forwarding", "X11UseLocalhost", "UsePAM",
  "StrictModes", "PrintLastLog", "PrintMotd", "IgnoreUserKnownHosts", "GSSAPIAuthentication", "KerberosAuthentication",
  "PasswordAuthentication", "KbdInteractiveAuthentication", "ChallengeResponseAuthentication", "DisableForwarding",
  "AllowAgentForwarding", "TCPKeepAlive", "UseDNS", "PermitTTY"];
const MATCH_OK = new Set(["permitemptypasswords", "hostbasedauthentication", "pubkeyauthentication", "x11forwarding", "x11uselocalhost",
  "gssapiauthentication", "kerberosauthentication", "passwordauthentication", "kbdinteractiveauthentication", "challengeresponseauthentication",
  "disableforwarding", "allowagentforwarding", "permittty", "permitrootlogin", "ignorerhosts", "maxauthtries", "maxsessions", "clientalivecountmax",
  "clientaliveinterval", "loglevel", "rekeylimit", "banner", "pubkeyacceptedalgorithms", "hostbasedacceptedalgorithms", "casignaturealgorithms",
  "acceptenv", "allowusers", "denyusers", "allowgroups", "authorizedkeysfile", "allowtcpforwarding", "gatewayports"]);

/** A keyword and a valid value for it. */
function setting(r: Prng, inMatch: boolean): [string, string] {
  for (;;) {
    const [k, v] = anySetting(r);
    if (!inMatch || MATCH_OK.has(k.toLowerCase()) || r.chance(0.02)) return [k, v];
  }
}

function anySetting(r: Prng): [string, string] {
  switch (r.int(30)) {
    case 0: case 1: case 2:
      return [r.pick(FLAGS), r.pick(["yes", "no", "YES", "No"])];
    case 3: case 4:
      return ["PermitRootLogin", r.pick(["no", "yes", "prohibit-password", "without-password", "forced-commands-only", "No"])];
    case 5: case 6:
      return ["MaxAuthTries", r.pick(["3", "4", "6", "10", "04", "+5", "0"])];
    case 7:
      return ["MaxSessions", r.pick(["2", "10", "1"])];
    case 8:
      return ["ClientAliveCountMax", r.pick(["0", "1", "3"])];
    case 9:
      return ["ClientAliveInterval", r.pick(["300", "5m", "1h30m", "0", "15", "2M", "1w"])];
    case 10:
      return ["LoginGraceTime", r.pick(["60", "1m", "2m30s", "30S", "0"])];
    case 11: case 12:
      return ["LogLevel", r.pick(["VERBOSE", "INFO", "verbose", "debug", "DEBUG3", "Quiet", "ERROR"])];
    case 13:
      return ["RekeyLimit", r.pick(["1G 1h", "512M", "default none", "1G", "default", "100K 30m", "2G 3600", "0 0", "64 1d"])];
    case 14:
      return ["MaxStartups", r.pick(["10:30:60", "10", "20:50:100", "1:100:1", "5:10:50", "3"])];
    case 15:
      return ["IgnoreRhosts", r.pick(["yes", "no", "shosts-only"])];
    case 16:
      return ["Compression", r.pick(["yes", "no", "delayed"])];
    case 17:
      return ["PermitUserEnvironment", r.pick(["no", "yes", "LANG,LC_*", "YES"])];
    case 18:
      return ["Banner", r.pick(["/etc/issue.net", "none", "NONE", "/etc/ssh/banner"])];
    case 19: case 20:
      return [r.pick(["Ciphers", "ciphers"]), algos(r, CIPHERS)];
    case 21:
      return [r.pick(["MACs", "macs"]), algos(r, MACS)];
    case 22:
      return ["KexAlgorithms", algos(r, KEX)];
    case 23:
      return [r.pick(["HostKeyAlgorithms", "PubkeyAcceptedAlgorithms", "PubkeyAcceptedKeyTypes", "HostbasedAcceptedAlgorithms", "CASignatureAlgorithms"]), algos(r, KEYS, KEY_PATTERNS)];
    case 24:
      return ["AcceptEnv", r.pick(["LANG LC_*", "LANG", "XMODIFIERS", "COLORTERM TZ"])];
    case 25:
      return [r.pick(["AllowUsers", "DenyUsers", "AllowGroups", "DenyGroups"]), r.pick(["alice", "bob carol", "root", "adm wheel"])];
    case 26:
      return ["HostKey", r.pick(["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"])];
    case 27:
      return ["Subsystem", r.pick(["sftp /usr/lib/openssh/sftp-server", "sftp internal-sftp -l INFO", "backup /bin/true"])];
    case 28:
      return ["AuthorizedKeysFile", r.pick([".ssh/authorized_keys", "/etc/ssh/keys/%u .ssh/authorized_keys", "none"])];
    default:
      return [r.pick(["AllowTcpForwarding", "GatewayPorts"]), r.pick(["yes", "no", "local", "remote", "all", "clientspecified"].filter(() => true))];
  }
}

function spellKeyword(r: Prng, k: string): string {
  switch (r.int(6)) {
    case 0:
      return k.toLowerCase();
    case 1:
      return k.toUpperCase();
    default:
      return k;
  }
}

function quoteValue(r: Prng, v: string): string {
  if (!r.chance(0.1) || v.includes(" ")) return v;
  return r.pick([`"${v}"`, `'${v}'`]);
}

function line(r: Prng, k: string, v: string): string {
  const sep = r.pick([" ", " ", "\t", "=", " = ", "= ", " =", "  "]);
  const lead = r.pick(["", "", "", " ", "\t"]);
  const tail = r.pick(["", "", "", " # trailing", "  ", "\t"]);
  // "Key value" with `=` only when the value has no spaces to be split differently.
  return `${lead}${spellKeyword(r, k)}${sep}${quoteValue(r, v)}${tail}`;
}

const MATCHES = ["Match User bob", "Match all", "Match Group adm", "Match Address 10.0.0.0/8", "match ALL", "Match all", "Match User alice Host example.org", "Match all # everyone", "Match Host *.example.com"];
const COMMENTS = ["# a comment", "#PermitRootLogin yes", "", "   ", "\t# indented comment", "#Include /etc/ssh/never/*"];

interface Ctx {
  r: Prng;
  /** Include patterns this file may use (keeps nesting finite unless a recursion is wanted). */
  includes: readonly string[];
  errors: boolean;
}

function fileBody(c: Ctx, n: number): string {
  const { r } = c;
  const lines: string[] = [];
  let inMatch = false;
  for (let i = 0; i < n; i++) {
    const roll = r.int(20);
    if (roll === 0) {
      lines.push(r.pick(COMMENTS));
    } else if (roll === 1 && c.includes.length) {
      const pats = Array.from({ length: 1 + (r.chance(0.2) ? 1 : 0) }, () => r.pick(c.includes));
      lines.push(`${spellKeyword(r, "Include")}${r.pick([" ", "\t", "="])}${pats.join(" ")}`);
    } else if (roll === 2) {
      lines.push(r.pick(MATCHES));
      inMatch = true;
    } else if (roll === 4 && r.chance(0.05)) {
      lines.push(r.pick(["Match LocalPort 2222", "MaxAuthTries 3\0junk", "LogLevel INFO \0x", "#\0"]));
    } else if (roll === 3 && c.errors && r.chance(0.1)) {
      lines.push(r.pick(["NoSuchKeyword yes", "PermitRootLogin maybe", "MaxAuthTries many", "LogLevel LOUD", "Ciphers rot13", "X11Forwarding yes no", "Match Nobody x", "AcceptEnv A=B"]));
    } else {
      const [k, v] = setting(r, inMatch && !(c.errors && r.chance(0.3)));
      lines.push(line(r, k, v));
    }
  }
  const eol = r.chance(0.1) ? "\r\n" : "\n";
  return lines.join(eol) + (r.chance(0.85) ? eol : "");
}

const DROPIN_NAMES = ["00-bulwark.conf", "10-a.conf", "50-cloud-init.conf", "99-z.conf", "Z.conf", "README", ".hidden.conf", "a.conf.bak", "20_x.conf"];
const INC_NAMES = ["a.conf", "b.conf", "x.conf", "m.cfg", "1.conf"];

/** One random tree: files under /etc/ssh (the main file always exists). */
export function randomSshdTree(r: Prng): GenFile[] {
  const errors = r.chance(0.08);
  const files: GenFile[] = [];
  const dropin = ["/etc/ssh/sshd_config.d/*.conf", "sshd_config.d/*.conf", "sshd_config.d/[0-5]*", "/etc/ssh/sshd_config.d/?0-*.conf"];
  const inc = ["inc/*", "inc/*.conf", "/etc/ssh/inc/[a-m]*", "inc/nothing-here", "inc/*/x.conf", "inc/sub/*", "inc/a.conf"];
  const sub = ["inc/sub/*.conf"];
  const recursion = errors && r.chance(0.2) ? ["sshd_config"] : [];
  for (const name of DROPIN_NAMES) {
    if (r.chance(0.3)) files.push({ path: `/etc/ssh/sshd_config.d/${name}`, content: fileBody({ r, includes: [...inc, ...recursion], errors }, r.int(8)) });
  }
  for (const name of INC_NAMES) {
    if (r.chance(0.25)) files.push({ path: `/etc/ssh/inc/${name}`, content: fileBody({ r, includes: sub, errors }, r.int(6)) });
  }
  for (const name of ["x.conf", "y.conf"]) {
    if (r.chance(0.2)) files.push({ path: `/etc/ssh/inc/sub/${name}`, content: fileBody({ r, includes: [], errors }, r.int(5)) });
  }
  // Debian's main file starts with the drop-in Include; ours puts it anywhere, or leaves it out.
  const main = fileBody({ r, includes: [...dropin, ...inc], errors }, r.int(14));
  const head = r.chance(0.7) ? `${r.pick(["Include", "include"])} ${r.pick(dropin)}\n` : "";
  files.push({ path: "/etc/ssh/sshd_config", content: head + main });
  return files;
}
