/**
 * sshd_config as OpenSSH 9.2 (Debian 12) reads it for `sshd -T` with no
 * connection spec (-C): bytes in, the effective global value of each modeled
 * keyword and "who wins" out. No IO: the files and directory listings come
 * in as an {@link SshdTree} gathered by checks/sshd-effective-config.ts.
 *
 * Facts, from servconf.c/misc.c/match.c/kex.c of V_9_2_P1, proven against the
 * real binary by test/config/sshd.property.test.ts:
 * - load_server_config: lines split at LF; leading " \t\r" stripped; a NUL
 *   ends a line's content AND swallows its LF (strlen), joining the next line.
 * - A line: trailing whitespace/\f stripped; keyword by strdelim (whitespace
 *   or ONE `=`, `"quoted"`); empty or `#…` keyword: skipped; no argument: an
 *   error. Keywords are case-insensitive (strcasecmp over the keyword table,
 *   aliases included). Arguments by argv_split: '…' and "…" quotes, \-escapes
 *   of quotes, \ and space, a `#` starting an argument ends the line.
 * - Most keywords: the FIRST value seen while active wins. MaxStartups: every
 *   line overwrites (sscanf, no first-wins), so the LAST wins, and a bare
 *   "N" keeps an earlier rate. RekeyLimit: the byte limit and the interval
 *   are two first-wins fields. Ciphers/MACs/KexAlgorithms: first wins, the
 *   `+`/`-`/`^` forms are resolved against the compiled-in defaults after
 *   parsing (kex_assemble_names). AcceptEnv, Allow/DenyUsers/Groups, HostKey,
 *   Subsystem accumulate over every active line (a repeated Subsystem name is
 *   fatal); AuthorizedKeysFile takes every argument of the first line.
 * - Match: with no connection spec, `Match all` activates what follows, any
 *   other criteria deactivate it; a keyword not allowed in Match while
 *   inactive is fatal. Include: every argument, relative to /etc/ssh, is a
 *   glob(3) (flags 0: sorted, no leading dots, no tilde); each file is read
 *   at depth+1 (over 16 is fatal) and Match state is restored after each
 *   file. An Include met while inactive (inside a Match) still reads its
 *   files, with every Match in them never matching: their lines stay
 *   inactive, so they never set a global value, but they are syntax-checked.
 * - Any error anywhere (unknown keyword, bad value, extra arguments) makes
 *   sshd refuse the whole configuration: {@link SshdConfig.errors}.
 *
 * Who wins, for a handler: a value written as line P of file F is the
 * effective one iff {@link wouldDecide} says so — it evaluates the tree with
 * F's new content and asks whether F:P decides. To know WHAT would override a
 * drop-in before writing it, {@link overridersOf} lists the active lines of
 * the keyword that sshd processes before (first-wins) or after (MaxStartups)
 * the first line of F: neutralise exactly those.
 */
import { fnmatch, isGlob } from "./fnmatch.ts";

/** A snapshot of the files sshd may read: contents (latin1 strings) and directory listings, by absolute path. */
export interface SshdTree {
  readonly files: ReadonlyMap<string, string>;
  readonly dirs: ReadonlyMap<string, readonly string[]>;
  /** Paths known to be absent. With `complete`, every path in neither map is absent. */
  readonly absent?: ReadonlySet<string>;
  readonly complete?: boolean;
}

/** Where a value came from: a file name as sshd names it, and a 1-based line. */
export interface SshdSource {
  file: string;
  line: number;
}

/** One processed occurrence of a keyword, in sshd's processing order. */
export interface SshdOccurrence extends SshdSource {
  /** Position in sshd's processing order (shared with {@link SshdConfig.reads}). */
  seq: number;
  keyword: string;
  args: string[];
  active: boolean;
}

/** The effective value of one keyword as `sshd -T` prints it (after the keyword), and who decided it. */
export interface SshdEffective {
  keyword: string;
  value: string;
  /** The line that decided, or null when the compiled-in default applies. */
  source: SshdSource | null;
  /** Accumulating keywords: every contributing line. */
  sources: SshdSource[];
}

/** The result of evaluating a tree: errors sshd would refuse with, what was read, and the effective values. */
export interface SshdConfig {
  /** Problems sshd refuses to start with (it prints them and exits non-zero). */
  errors: string[];
  /** Problems only `sshd -T` without -C reports (Match LocalPort); the daemon itself accepts them. */
  testOnlyErrors: string[];
  /** Paths whose existence or content the evaluation needed but the tree does not say. */
  needs: string[];
  /** Every file read, in order, with the processing position it started at (a file included twice appears twice). */
  reads: { file: string; seq: number; active: boolean }[];
  occurrences: SshdOccurrence[];
  /** Lines that apply to every connection from a `Match all` block (sshd's second pass), in order. */
  matchAllLines: (SshdSource & { keyword: string })[];
  /** Effective values of the modeled keywords, by canonical (lowercase `sshd -T`) name. */
  values: Map<string, SshdEffective>;
}

/** The main configuration file sshd reads when started without -f. */
export const SSHD_CONFIG = "/etc/ssh/sshd_config";
/** The directory a relative Include pattern is resolved against (SSHDIR, compiled in). */
export const SSHDIR = "/etc/ssh";
const MAX_DEPTH = 16;

// ---------------------------------------------------------------- keywords

type Kind =
  | "flag" | "int" | "time" | "loglevel" | "multi" | "rekey" | "maxstartups" | "userenv" | "path"
  | "algos" | "accum" | "hostkey" | "subsystem" | "authkeys" | "other";

interface Keyword {
  name: string; // canonical, as sshd -T prints it
  kind: Kind;
  match: boolean; // allowed inside Match
  states?: readonly (readonly [string, string])[]; // multistate: input (strcasecmp) → printed
  algos?: "cipher" | "mac" | "kex" | "key" | "sig";
  def?: string; // printed default
}

const YESNO = [["yes", "yes"], ["no", "no"]] as const;
const K = new Map<string, Keyword>();
function kw(names: string, kind: Kind, match: boolean, extra: Partial<Keyword> = {}): void {
  const [canon, ...aliases] = names.split(" ");
  const k: Keyword = { name: canon!, kind, match, ...extra };
  for (const n of [canon!, ...aliases]) K.set(n, k);
}
const flag = (names: string, match: boolean, def: "yes" | "no") => kw(names, "flag", match, { states: YESNO, def });
// Flags (parse_flag: strcasecmp yes/no, first active wins).
flag("usepam", false, "no");
flag("hostbasedauthentication", true, "no");
flag("hostbasedusesnamefrompacketonly", true, "no");
flag("pubkeyauthentication", true, "yes");
K.set("dsaauthentication", { ...K.get("pubkeyauthentication")!, match: false });
flag("kerberosauthentication", true, "no");
flag("kerberosorlocalpasswd", false, "yes");
flag("kerberosticketcleanup", false, "yes");
flag("gssapiauthentication", true, "no");
flag("gssapicleanupcredentials gssapicleanupcreds", false, "yes"); // the second: a Debian (GSSAPI key exchange patch) alias
flag("gssapistrictacceptorcheck", false, "yes");
flag("passwordauthentication", true, "yes");
flag("kbdinteractiveauthentication", true, "yes");
K.set("challengeresponseauthentication", K.get("kbdinteractiveauthentication")!);
K.set("skeyauthentication", K.get("kbdinteractiveauthentication")!);
flag("printmotd", false, "yes");
flag("printlastlog", false, "yes");
flag("ignoreuserknownhosts", false, "no");
flag("x11forwarding", true, "no");
flag("x11uselocalhost", true, "yes");
flag("strictmodes", false, "yes");
flag("permitemptypasswords", true, "no");
flag("tcpkeepalive keepalive", false, "yes");
flag("usedns", false, "no");
flag("permittty", true, "yes");
flag("permituserrc", true, "yes");
flag("allowagentforwarding", true, "yes");
flag("disableforwarding", true, "no");
flag("exposeauthinfo", true, "no");
flag("streamlocalbindunlink", true, "no");
// Multistate: the printed name is the FIRST table entry with that value (fmt_multistate_int).
kw("permitrootlogin", "multi", true, {
  states: [["without-password", "without-password"], ["prohibit-password", "without-password"], ["forced-commands-only", "forced-commands-only"], ["yes", "yes"], ["no", "no"]],
  def: "without-password",
});
kw("ignorerhosts", "multi", true, { states: [["yes", "yes"], ["no", "no"], ["shosts-only", "shosts-only"]], def: "yes" });
kw("compression", "multi", false, { states: [["yes", "yes"], ["delayed", "yes"], ["no", "no"]], def: "yes" });
kw("gatewayports", "multi", true, { states: [["clientspecified", "clientspecified"], ["yes", "yes"], ["no", "no"]], def: "no" });
const TCPFWD = [["yes", "yes"], ["all", "yes"], ["no", "no"], ["remote", "remote"], ["local", "local"]] as const;
kw("allowtcpforwarding", "multi", true, { states: TCPFWD, def: "yes" });
kw("allowstreamlocalforwarding", "multi", true, { states: TCPFWD, def: "yes" });
// Integers (strtonum 0..INT_MAX) and times (convtime).
kw("maxauthtries", "int", true, { def: "6" });
kw("maxsessions", "int", true, { def: "10" });
kw("clientalivecountmax", "int", true, { def: "3" });
kw("x11displayoffset", "int", true, { def: "10" });
kw("logingracetime", "time", false, { def: "120" });
kw("clientaliveinterval", "time", true, { def: "0" });
kw("loglevel", "loglevel", true, { def: "INFO" });
kw("rekeylimit", "rekey", true, { def: "0 0" });
kw("maxstartups", "maxstartups", false, { def: "10:30:100" });
kw("permituserenvironment", "userenv", false, { def: "no" });
kw("banner", "path", true, { def: "none" });
kw("ciphers", "algos", false, { algos: "cipher" });
kw("macs", "algos", false, { algos: "mac" });
kw("kexalgorithms", "algos", false, { algos: "kex" });
kw("hostkeyalgorithms", "algos", false, { algos: "key" });
kw("pubkeyacceptedalgorithms pubkeyacceptedkeytypes", "algos", true, { algos: "key" });
kw("hostbasedacceptedalgorithms hostbasedacceptedkeytypes", "algos", true, { algos: "key" });
kw("casignaturealgorithms", "algos", true, { algos: "sig" });
kw("acceptenv", "accum", true);
kw("allowusers", "accum", true);
kw("denyusers", "accum", true);
kw("allowgroups", "accum", true);
kw("denygroups", "accum", true);
kw("hostkey hostdsakey", "hostkey", false);
kw("subsystem", "subsystem", false);
kw("authorizedkeysfile", "authkeys", true, { def: ".ssh/authorized_keys .ssh/authorized_keys2" });
// Known but not modeled: accepted (sshd would too, given valid arguments), never judged.
for (const n of ("port hostkeyagent pidfile modulifile syslogfacility logverbose listenaddress addressfamily xauthlocation " +
  "persourcemaxstartups persourcenetblocksize setenv permittunnel permitopen permitlisten forcecommand chrootdirectory " +
  "hostcertificate revokedkeys trustedusercakeys authorizedprincipalsfile ipqos authorizedkeyscommand " +
  "authorizedkeyscommanduser authorizedprincipalscommand authorizedprincipalscommanduser versionaddendum " +
  "authenticationmethods streamlocalbindmask fingerprinthash rdomain securitykeyprovider requiredrsasize " +
  "channeltimeout unusedconnectiontimeout pubkeyauthoptions kerberosgetafstoken debianbanner gssapikeyexchange " +
  "gssapistorecredentialsonrekey gssapikexalgorithms").split(" ")) {
  kw(n, "other", !/^(port|hostkeyagent|pidfile|modulifile|syslogfacility|listenaddress|addressfamily|xauthlocation|persource|hostcertificate|versionaddendum|fingerprinthash|securitykeyprovider|kerberos|debian|gssapi)/.test(n));
}
// Deprecated/unsupported/ignored: logged and skipped, any arguments.
const IGNORED = new Set(("pamauthenticationviakbdint serverkeybits keyregenerationinterval rhostsauthentication rhostsrsaauthentication " +
  "rsaauthentication kerberostgtpassing afstokenpassing checkmail uselogin protocol verifyreversemapping reversemappingcheck " +
  "authorizedkeysfile2 useprivilegeseparation permitblacklistedkeys gssapiusesessioncredcache gssusesessionccache").split(" "));
const IGNORED_IN_MATCH = new Set(["rhostsrsaauthentication", "rsaauthentication", "authorizedkeysfile2"]);

/** The canonical `sshd -T` name of KEYWORD (any case, aliases), or null when sshd does not know it. */
export function canonicalSshdKeyword(keyword: string): string | null {
  const k = K.get(keyword.toLowerCase());
  return k ? k.name : null;
}

/** True when the effective value of KEYWORD is modeled (and so judged by the property test). */
export function isModeledSshdKeyword(keyword: string): boolean {
  const k = K.get(keyword.toLowerCase());
  return k !== undefined && k.kind !== "other";
}

/** The modeled canonical keywords, sorted. */
export function modeledSshdKeywords(): string[] {
  return [...new Set([...K.values()].filter((k) => k.kind !== "other").map((k) => k.name))].sort();
}

// ------------------------------------------------------- compiled-in lists

// `ssh -Q cipher|mac|kex|key-sig|sig` of Debian's openssh 9.2p1 (the "all" lists of assemble_algorithms).
const ALL = {
  cipher: "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
  mac: "hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com",
  kex: "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com",
  key: "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com",
  sig: "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512",
} as const;
// The defaults `sshd -T` prints with an empty configuration (KEX_SERVER_* filtered by the lists above).
const KEY_DEFAULT = "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256";
const DEFAULTS = {
  cipher: "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
  mac: "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
  kex: "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
  key: KEY_DEFAULT,
  sig: "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256",
} as const;
const HOSTKEY_DEFAULT = ["/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key"];

/** Split a name-list at commas, stopping at the first empty element (OpenSSH's strsep loops do). */
function names(list: string): string[] {
  const out: string[] = [];
  for (const p of list.split(",")) {
    if (p === "") break;
    out.push(p);
  }
  return out;
}

/** match.c match_pattern: `*` and `?` only, case-sensitive (the wildcards sshd itself uses in algorithm lists). */
export function matchPattern(s: string, p: string): boolean {
  const rx = new RegExp("^" + p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[\\s\\S]*").replace(/\?/g, "[\\s\\S]") + "$");
  return rx.test(s);
}

/** match.c match_pattern_list (dolower 0): 1 positive, -1 negated match, 0 none. */
function matchPatternList(s: string, list: string): number {
  let positive = 0;
  for (let sub of list.split(",")) {
    const neg = sub.startsWith("!");
    if (neg) sub = sub.slice(1);
    if (matchPattern(s, sub)) {
      if (neg) return -1;
      positive = 1;
    }
  }
  return positive;
}

/** kex.c kex_names_cat: A then every name of B not already in A (exact compare). */
function namesCat(a: string, b: string): string {
  if (a === "") return b;
  if (b === "") return a;
  const have = names(a);
  const out = a.split(",");
  for (const p of names(b)) {
    if (have.includes(p)) continue;
    have.push(p);
    out.push(p);
  }
  return out.join(",");
}

/** kex.c kex_assemble_names: a configured list (or null) against DEF and ALL; a string error when sshd is fatal. */
export function assembleAlgorithms(list: string | null, def: string, all: string): string | { error: string } {
  if (list === null || list === "") return def;
  let work = list;
  if (list[0] === "+") work = namesCat(def, list.slice(1));
  else if (list[0] === "-") return def.split(",").filter((n) => matchPatternList(n, list.slice(1)) !== 1).join(",");
  else if (list[0] === "^") work = namesCat(list.slice(1), def);
  let ret = "";
  for (const cp of work.split(",")) {
    if (cp.startsWith("!")) return { error: `negated algorithm "${cp}" in "${list}"` };
    const matching = all.split(",").filter((n) => matchPatternList(n, cp) === 1).join(",");
    ret = namesCat(ret, matching);
  }
  if (ret === "") return { error: `"${list}" leaves no algorithm` };
  return ret;
}

/** The parse-time validity test of an algorithm list (ciphers_valid, mac_valid, kex_names_valid, sshkey_names_valid2). */
function algosValid(kind: keyof typeof ALL, arg: string): boolean {
  if (arg.startsWith("-")) return true;
  const body = arg[0] === "+" || arg[0] === "^" ? arg.slice(1) : arg;
  if (body === "") return false;
  const all = ALL[kind].split(",");
  for (const p of names(body)) {
    if (all.includes(p)) continue;
    // Key types accept patterns that match (or negate) some key type name.
    if ((kind === "key" || kind === "sig") && ALL.key.split(",").some((n) => matchPatternList(n, p) !== 0)) continue;
    return false;
  }
  return true;
}

// ------------------------------------------------------------- tokenizing

const WS = " \t\r\n";

/** misc.c strdelim (split_equals): the next token of S from I, and where the rest starts; null token on an unmatched quote. */
function strdelim(s: string, i: number): { tok: string | null; rest: number | null } {
  let j = i;
  while (j < s.length && !(WS + '"=').includes(s[j]!)) j++;
  if (j >= s.length) return { tok: s.slice(i), rest: null };
  if (s[j] === '"') {
    const close = s.indexOf('"', j + 1);
    if (close < 0) return { tok: null, rest: null };
    const tok = s.slice(i, j) + s.slice(j + 1, close);
    let k = close + 1;
    while (k < s.length && WS.includes(s[k]!)) k++;
    return { tok, rest: k };
  }
  const tok = s.slice(i, j);
  const eq = s[j] === "=";
  let k = j + 1;
  while (k < s.length && WS.includes(s[k]!)) k++;
  if (!eq && s[k] === "=") {
    k++;
    while (k < s.length && WS.includes(s[k]!)) k++;
  }
  return { tok, rest: k };
}

/** misc.c argv_split with terminate_on_comment: the arguments, or null on an unterminated quote. */
export function sshdArgv(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === " " || s[i] === "\t") {
      i++;
      continue;
    }
    if (s[i] === "#") break;
    let quote = "";
    let arg = "";
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === "\\") {
        const n = s[i + 1];
        if (n === "'" || n === '"' || n === "\\" || (quote === "" && n === " ")) {
          i++;
          arg += n;
        } else arg += c;
      } else if (quote === "" && (c === " " || c === "\t")) break;
      else if (quote === "" && (c === '"' || c === "'")) quote = c;
      else if (quote !== "" && c === quote) quote = "";
      else arg += c;
    }
    out.push(arg);
    if (i >= s.length && quote !== "") return null;
  }
  return out;
}

/** The lines of a file exactly as load_server_config + parse_server_config_depth see them. */
export function sshdLines(content: string): string[] {
  let buf = "";
  for (const raw of content.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    let l = raw.replace(/^[ \t\r]+/, "");
    const nul = l.indexOf("\0");
    if (nul >= 0) l = l.slice(0, nul);
    buf += l;
  }
  return buf.split("\n");
}

/** One line split into keyword and raw argument text; null for a blank or comment line. */
export function sshdKeywordOf(line: string): { keyword: string; rest: string } | { error: string } | null {
  const l = line.replace(/[ \t\r\n\f]+$/, "");
  if (l === "") return null;
  let { tok, rest } = strdelim(l, 0);
  if (tok === "" && rest !== null) ({ tok, rest } = strdelim(l, rest));
  if (tok === null || tok === "" || tok.startsWith("#")) return null;
  const restText = rest === null ? "" : l.slice(rest);
  if (restText === "") return { error: `no argument after keyword "${tok}"` };
  return { keyword: tok, rest: restText };
}

// ------------------------------------------------------------ file system

function normPath(p: string): string {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return "/" + out.join("/");
}

class TreeView {
  readonly needs = new Set<string>();
  constructor(private readonly t: SshdTree) {}
  kind(path: string): "file" | "dir" | "absent" | "unknown" {
    const p = normPath(path);
    if (this.t.dirs.has(p)) return "dir";
    if (this.t.files.has(p)) return "file";
    if (this.t.complete || this.t.absent?.has(p)) return "absent";
    this.needs.add(p);
    return "unknown";
  }
  list(path: string): readonly string[] {
    return this.kind(path) === "dir" ? this.t.dirs.get(normPath(path))! : [];
  }
  content(path: string): string {
    return this.t.files.get(normPath(path)) ?? "";
  }
}

/** glob(3) with flags 0 over the tree: per component FNM_PERIOD, directories only before the last, sorted by bytes. */
function glob(view: TreeView, pattern: string): string[] {
  if (!isGlob(pattern)) {
    const k = view.kind(pattern);
    return k === "file" || k === "dir" ? [pattern] : [];
  }
  // Like glibc, start at the longest directory prefix without magic: its parents are never looked at.
  const parts = pattern.split("/");
  const firstMagic = parts.findIndex((c) => isGlob(c));
  let bases: string[] = [parts.slice(0, firstMagic).join("/")];
  for (let i = firstMagic; i < parts.length; i++) {
    const comp = parts[i]!;
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const b of bases) {
      const dir = b === "" ? "/" : b;
      if (comp === "") {
        next.push(b + "/");
        continue;
      }
      if (!isGlob(comp)) {
        const p = `${b}/${comp}`;
        const k = view.kind(p);
        if (last ? k === "file" || k === "dir" : k === "dir") next.push(p);
        continue;
      }
      for (const name of [".", "..", ...view.list(dir)]) {
        if (!fnmatch(comp, name, { period: true })) continue;
        const p = `${b}/${name}`;
        if (last || view.kind(p) === "dir") next.push(p);
      }
    }
    bases = next;
  }
  return bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ------------------------------------------------------------- evaluation

interface Acc {
  first: Map<string, { args: string[]; src: SshdSource }>;
  lists: Map<string, { items: string[]; sources: SshdSource[] }>;
  maxstartups: { begin: number; rate: number; max: number; src: SshdSource | null };
  rekeyInterval: { value: number; src: SshdSource } | null;
  hostkeys: { path: string; src: SshdSource }[];
  subsystems: { name: string; args: string; src: SshdSource }[];
}

class Fatal extends Error {}

// Debian's sshd names QUIET "SILENT" first (so prints it) and accepts both; DEBUG and DEBUG1 print as DEBUG.
const LOGLEVELS: [string, string][] = [["silent", "SILENT"], ["quiet", "SILENT"], ["fatal", "FATAL"], ["error", "ERROR"], ["info", "INFO"], ["verbose", "VERBOSE"], ["debug", "DEBUG"], ["debug1", "DEBUG"], ["debug2", "DEBUG2"], ["debug3", "DEBUG3"]];

/** misc.c convtime: seconds, or null when invalid. */
export function sshdConvtime(s: string): number | null {
  if (!/^(\d+[sSmMhHdDwW]?)+$/.test(s)) return null;
  const mult: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const m of s.matchAll(/(\d+)([sSmMhHdDwW]?)/g)) {
    total += Number(m[1]) * mult[m[2]!.toLowerCase()]!;
    if (total > 2147483647) return null;
  }
  return total;
}

/** strtonum(s, 0, INT_MAX) as atoi_err uses it; null when invalid. */
function strtonum(s: string): number | null {
  if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(s)) return null;
  const n = Number(s.trim());
  return n >= 0 && n <= 2147483647 ? n : null;
}

/** scan_scaled (fmt_scaled.c) for the forms rules use: digits with an optional K/M/G/T/P/E suffix (either case). */
function scanScaled(s: string): bigint | null {
  const m = /^(\d+)([bBkKmMgGtTpPeE]?)$/.exec(s);
  if (!m) return null;
  const pow = "bkmgtpe".indexOf(m[2]!.toLowerCase() || "b");
  return BigInt(m[1]!) * 1024n ** BigInt(pow);
}

/** sscanf("%d:%d:%d") as MaxStartups uses it: the integers read before the first mismatch. */
function scanInts(s: string): number[] {
  const out: number[] = [];
  let rest = s;
  for (let i = 0; i < 3; i++) {
    const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(rest);
    if (!m) break;
    out.push(Number(m[1]));
    rest = rest.slice(m[0].length);
    if (i < 2) {
      if (rest[0] !== ":") break;
      rest = rest.slice(1);
    }
  }
  return out;
}

/** How one pass reads the files: pass 1 is startup (no connection), pass 2 the per-connection reparse. */
interface PassState {
  active: boolean;
  seq: number;
}

/** Per-file flags of parse_server_config_depth. */
interface FileFlags {
  neverMatch: boolean;
  matchOnly: boolean;
}

function emptyAcc(): Acc {
  return { first: new Map(), lists: new Map(), maxstartups: { begin: -1, rate: -1, max: -1, src: null }, rekeyInterval: null, hostkeys: [], subsystems: [] };
}

/**
 * One pass over the files. Pass 1 (`connection` false) is sshd's startup
 * parse; pass 2 re-reads everything with the blank test connection `sshd -T`
 * uses without -C: only Match blocks that match (`Match all`) apply, into a
 * fresh set of options that is then copied over pass 1's (copy_set_server_options).
 */
function runPass(view: TreeView, main: string, connection: boolean, result: SshdConfig): Acc {
  const acc = emptyAcc();
  const st: PassState = { active: !connection, seq: 0 };
  const { errors, reads, occurrences } = result;

  const parseFile = (file: string, content: string, flags: FileFlags, depth: number): void => {
    if (depth > MAX_DEPTH) throw new Fatal("Too many recursive configuration includes");
    if (!connection) reads.push({ file, seq: st.seq++, active: st.active && !flags.neverMatch });
    let bad = 0;
    sshdLines(content).forEach((line, i) => {
      const msg = processLine(file, i + 1, line, flags, depth);
      if (msg !== null && !connection) {
        errors.push(`${file} line ${i + 1}: ${msg}`);
        bad++;
      }
    });
    if (bad > 0) throw new Fatal(`${file}: terminating, ${bad} bad configuration options`);
  };

  const setFirst = (k: Keyword, args: string[], src: SshdSource) => {
    if (st.active && !acc.first.has(k.name)) acc.first.set(k.name, { args, src });
  };

  /** One line; a string is an error (sshd counts it and refuses at the end of the file). Fatal errors throw. */
  const processLine = (file: string, line: number, text: string, flags: FileFlags, depth: number): string | null => {
    const head = sshdKeywordOf(text);
    if (head === null) return null;
    if ("error" in head) return head.error;
    const lower = head.keyword.toLowerCase();
    const k = K.get(lower);
    const isInclude = lower === "include";
    const isMatch = lower === "match";
    if (!k && !isInclude && !isMatch && !IGNORED.has(lower)) return `Bad configuration option: ${head.keyword}`;
    const args = sshdArgv(head.rest);
    if (args === null) return "invalid quotes";
    const allowedInMatch = isInclude || isMatch || (k ? k.match : IGNORED_IN_MATCH.has(lower));
    if (!st.active && !allowedInMatch) {
      if (connection) return null; // already processed in pass 1
      throw new Fatal(`${file} line ${line}: Directive '${head.keyword}' is not allowed within a Match block`);
    }
    const src = { file, line };
    const fatal = (m: string): never => {
      throw new Fatal(`${file} line ${line}: ${m}`);
    };
    if (isInclude) {
      if (args.length === 0) fatal(`${head.keyword} missing filename argument`);
      for (const a of args) {
        if (a === "") return `keyword ${head.keyword} empty argument`;
        const pattern = a.startsWith("/") || a.startsWith("~") ? a : `${SSHDIR}/${a}`;
        const outer = st.active;
        const child: FileFlags = flags.matchOnly ? { neverMatch: false, matchOnly: true } : { neverMatch: !outer, matchOnly: false };
        for (const f of pattern.startsWith("~") ? [] : glob(view, pattern)) {
          parseFile(f, view.kind(f) === "file" ? view.content(f) : "", { ...child }, depth + 1);
          st.active = outer;
        }
      }
      return null;
    }
    if (isMatch) {
      const r = matchLine(head.rest, connection && !flags.neverMatch);
      if (r === null) fatal("Bad Match condition");
      // sshd -T without -C stops here; the daemon does not. Record it and read on as for a connection
      // to another port, so the values stay the daemon's for connections no criteria select.
      if (r === "lport") result.testOnlyErrors.push(`${file} line ${line}: 'Match LocalPort' in configuration but 'lport' not in connection test specification (sshd -T without -C only)`);
      st.active = flags.neverMatch ? false : r === true;
      flags.matchOnly = false;
      return null;
    }
    if (!k) return null; // deprecated / unsupported: logged, arguments consumed
    if (!connection) occurrences.push({ ...src, seq: st.seq++, keyword: k.name, args, active: st.active });
    else if (st.active) result.matchAllLines.push({ ...src, keyword: k.name });
    const argc = (n: number): string | null => (args.length > n ? `keyword ${head.keyword} extra arguments at end of line` : null);
    const a0 = args[0];
    switch (k.kind) {
      case "flag":
      case "multi": {
        const m = a0 === undefined || a0 === "" ? undefined : k.states!.find(([i]) => i.toLowerCase() === a0.toLowerCase());
        if (!m) fatal(a0 ? `unsupported option "${a0}".` : "missing argument.");
        setFirst(k, [m![1]], src);
        return argc(1);
      }
      case "int": {
        const n = a0 === undefined ? null : strtonum(a0);
        if (n === null) fatal(`${head.keyword} integer value invalid.`);
        setFirst(k, [String(n)], src);
        return argc(1);
      }
      case "time": {
        const n = a0 === undefined ? null : sshdConvtime(a0);
        if (n === null) fatal("invalid time value.");
        setFirst(k, [String(n)], src);
        return argc(1);
      }
      case "loglevel": {
        const l = LOGLEVELS.find(([n]) => n === a0?.toLowerCase());
        if (!l) fatal(`unsupported log level '${a0 ?? "<NONE>"}'`);
        setFirst(k, [l![1]], src);
        return argc(1);
      }
      case "rekey": {
        if (!a0) fatal(`${head.keyword} missing argument.`);
        const limit: bigint | null = a0 === "default" ? 0n : scanScaled(a0!);
        if (limit === null) fatal(`Bad ${head.keyword} number '${a0}'`);
        if (limit! !== 0n && limit! < 16n) fatal(`${head.keyword} too small`);
        setFirst(k, [String(limit)], src);
        if (args.length > 1) {
          if (args[1] === "none") return argc(2);
          const t = args[1] === "" ? null : sshdConvtime(args[1]!);
          if (t === null) fatal("invalid time value.");
          if (st.active && acc.rekeyInterval === null) acc.rekeyInterval = { value: t!, src };
          return argc(2);
        }
        return null;
      }
      case "maxstartups": {
        if (!a0) fatal(`${head.keyword} missing argument.`);
        const ms = acc.maxstartups;
        const n = scanInts(a0!);
        if (n.length >= 1) ms.begin = n[0]!;
        if (n.length >= 2) ms.rate = n[1]!;
        if (n.length === 3) {
          ms.max = n[2]!;
          if (ms.begin > ms.max || ms.rate > 100 || ms.rate < 1) fatal(`Invalid ${head.keyword} spec.`);
        } else if (n.length !== 1) fatal(`Invalid ${head.keyword} spec.`);
        else ms.max = ms.begin;
        if (ms.max <= 0 || ms.begin <= 0) fatal(`Invalid ${head.keyword} spec.`);
        ms.src = src;
        return argc(1);
      }
      case "userenv": {
        if (!a0) fatal(`${head.keyword} missing argument.`);
        setFirst(k, [a0 === "yes" ? "yes" : a0 === "no" ? "no" : a0!], src);
        return argc(1);
      }
      case "path": {
        if (!a0) fatal("missing file name.");
        if (a0!.toLowerCase() === "none") setFirst(k, ["none"], src);
        else if (a0!.startsWith("/")) setFirst(k, [a0!], src);
        else if (st.active && !acc.first.has(k.name)) return `relative ${head.keyword} path "${a0}" depends on sshd's working directory (not modeled)`;
        return argc(1);
      }
      case "algos": {
        if (!a0) fatal(`${head.keyword} missing argument.`);
        if (!algosValid(k.algos!, a0!)) fatal(`Bad ${head.keyword} '${a0}'.`);
        setFirst(k, [a0!], src);
        return argc(1);
      }
      case "accum": {
        for (const a of args) {
          if (a === "" || (k.name === "acceptenv" && a.includes("="))) fatal(`invalid ${head.keyword} argument "${a}"`);
        }
        if (st.active) {
          const l = acc.lists.get(k.name) ?? { items: [], sources: [] };
          l.items.push(...args);
          if (args.length) l.sources.push(src);
          acc.lists.set(k.name, l);
        }
        return null;
      }
      case "hostkey": {
        if (!a0) fatal("missing file name.");
        if (st.active) {
          if (!a0!.startsWith("/") && a0!.toLowerCase() !== "none") return `relative HostKey path "${a0}" depends on sshd's working directory (not modeled)`;
          acc.hostkeys.push({ path: a0!, src });
        }
        return argc(1);
      }
      case "subsystem": {
        if (!a0) fatal(`${head.keyword} missing argument.`);
        if (!st.active) return null;
        if (acc.subsystems.some((x) => x.name === a0)) fatal(`Subsystem '${a0}' already defined.`);
        if (!args[1]) fatal("Missing subsystem command.");
        acc.subsystems.push({ name: a0!, args: args.slice(1).join(" "), src });
        return null;
      }
      case "authkeys": {
        if (args.some((a) => a === "")) return `keyword ${head.keyword} empty argument`;
        if (args.some((a) => a.startsWith("~"))) return `"~" in ${head.keyword} is expanded for sshd's user (not modeled)`;
        if (args.length) setFirst(k, args, src);
        return null;
      }
      case "other":
        setFirst(k, args, src);
        return null;
    }
  };

  const kind = view.kind(main);
  if (kind === "file") parseFile(main, view.content(main), { neverMatch: false, matchOnly: connection }, 0);
  else if (kind !== "unknown" && !connection) errors.push(`${main}: No such file or directory`);
  return acc;
}

/** Options a Match block may set for a connection (copy_set_server_options), by canonical keyword. */
const COPIED = new Set([
  "passwordauthentication", "gssapiauthentication", "pubkeyauthentication", "kerberosauthentication", "hostbasedauthentication",
  "hostbasedusesnamefrompacketonly", "kbdinteractiveauthentication", "permitrootlogin", "permitemptypasswords", "ignorerhosts",
  "allowtcpforwarding", "allowstreamlocalforwarding", "allowagentforwarding", "disableforwarding", "exposeauthinfo", "gatewayports",
  "streamlocalbindunlink", "x11displayoffset", "x11forwarding", "x11uselocalhost", "permittty", "permituserrc", "maxsessions",
  "maxauthtries", "clientalivecountmax", "clientaliveinterval", "rekeylimit", "loglevel", "banner", "hostbasedacceptedalgorithms",
  "pubkeyacceptedalgorithms", "casignaturealgorithms", "authorizedkeysfile", "allowusers", "denyusers", "allowgroups", "denygroups", "acceptenv",
]);

/** Pass 2's values over pass 1's, as copy_set_server_options does (whole lists replaced; PermitUserEnvironment only as a pattern). */
function mergeMatch(base: Acc, over: Acc): Acc {
  const out: Acc = { ...base, first: new Map(base.first), lists: new Map(base.lists) };
  for (const [name, v] of over.first) {
    if (COPIED.has(name)) out.first.set(name, v);
    else if (name === "permituserenvironment" && v.args[0] !== "yes" && v.args[0] !== "no") out.first.set(name, v);
  }
  for (const [name, l] of over.lists) if (COPIED.has(name) && l.items.length > 0) out.lists.set(name, l);
  if (over.rekeyInterval) out.rekeyInterval = over.rekeyInterval;
  return out;
}

/**
 * Evaluate the configuration rooted at MAIN (default /etc/ssh/sshd_config)
 * as `sshd -T -f MAIN` would with no connection spec: the values every
 * connection gets (lines in `Match all` blocks included), and who decided.
 * @example evaluateSshd({ files: new Map([["/etc/ssh/sshd_config", "PermitRootLogin no\n"]]), dirs: new Map(), complete: true }).values.get("permitrootlogin")?.value // "no"
 */
export function evaluateSshd(tree: SshdTree, main: string = SSHD_CONFIG): SshdConfig {
  const view = new TreeView(tree);
  const result: SshdConfig = { errors: [], testOnlyErrors: [], needs: [], reads: [], occurrences: [], matchAllLines: [], values: new Map() };
  try {
    const first = runPass(view, main, false, result);
    let acc = first;
    if (result.errors.length === 0) {
      try {
        acc = mergeMatch(first, runPass(view, main, true, result));
      } catch (e) {
        if (!(e instanceof Fatal)) throw e;
        result.testOnlyErrors.push(e.message);
      }
    }
    if (result.errors.length === 0) finish(acc, result.values);
  } catch (e) {
    if (!(e instanceof Fatal)) throw e;
    result.errors.push(e.message);
  }
  result.needs = [...view.needs];
  return result;
}

/** fill_default_server_options + assemble_algorithms + dump_config for the modeled keywords. */
function finish(acc: Acc, values: Map<string, SshdEffective>): void {
  for (const k of new Set(K.values())) {
    if (k.kind === "other") continue;
    const f = acc.first.get(k.name);
    const one = (value: string, source: SshdSource | null) => values.set(k.name, { keyword: k.name, value, source, sources: source ? [source] : [] });
    switch (k.kind) {
      case "rekey": {
        const iv = acc.rekeyInterval;
        const srcs = [f?.src, iv?.src].filter((s): s is SshdSource => s !== undefined);
        values.set(k.name, { keyword: k.name, value: `${f ? f.args[0] : "0"} ${iv ? iv.value : 0}`, source: f?.src ?? iv?.src ?? null, sources: srcs });
        break;
      }
      case "maxstartups": {
        const m = acc.maxstartups;
        one(`${m.begin === -1 ? 10 : m.begin}:${m.rate === -1 ? 30 : m.rate}:${m.max === -1 ? 100 : m.max}`, m.src);
        break;
      }
      case "algos": {
        const r = assembleAlgorithms(f ? f.args[0]! : null, DEFAULTS[k.algos!], ALL[k.algos!]);
        if (typeof r !== "string") throw new Fatal(`${f!.src.file} line ${f!.src.line}: ${k.name}: ${r.error}`);
        one(r, f?.src ?? null);
        break;
      }
      case "accum": {
        const l = acc.lists.get(k.name);
        values.set(k.name, { keyword: k.name, value: l ? l.items.join(" ") : "", source: l?.sources[0] ?? null, sources: l?.sources ?? [] });
        break;
      }
      case "hostkey": {
        const hk = acc.hostkeys;
        values.set(k.name, {
          keyword: k.name,
          value: (hk.length ? hk.map((h) => (h.path.toLowerCase() === "none" ? "none" : h.path)) : HOSTKEY_DEFAULT).join(" "),
          source: hk[0]?.src ?? null,
          sources: hk.map((h) => h.src),
        });
        break;
      }
      case "subsystem": {
        const s = acc.subsystems;
        values.set(k.name, { keyword: k.name, value: s.map((x) => `${x.name} ${x.args}`).join("\n"), source: s[0]?.src ?? null, sources: s.map((x) => x.src) });
        break;
      }
      default:
        one(f ? f.args.join(" ") : k.def!, f?.src ?? null);
    }
  }
}

/**
 * match_cfg_line. Without a connection (pass 1): true for `all` alone, false
 * for other criteria. With sshd -T's blank test connection (pass 2): the same,
 * except LocalPort, which sshd -T refuses without -C ("lport"). Null when sshd
 * rejects the line.
 */
function matchLine(rest: string, testConnection: boolean): boolean | "lport" | null {
  let i: number | null = 0;
  let attributes = 0;
  let lport = false;
  while (i !== null) {
    const a = strdelim(rest, i);
    if (a.tok === null || a.tok === "") break;
    if (a.tok.startsWith("#")) break;
    attributes++;
    i = a.rest;
    if (a.tok.toLowerCase() === "all") {
      if (attributes > 1) return null;
      const nx = i === null ? null : strdelim(rest, i);
      if (nx !== null && nx.tok !== null && nx.tok !== "" && !nx.tok.startsWith("#")) return null;
      return true;
    }
    const arg = i === null ? null : strdelim(rest, i);
    if (arg === null || arg.tok === null || arg.tok === "" || arg.tok.startsWith("#")) return null;
    const attr = a.tok.toLowerCase();
    if (!["user", "group", "host", "address", "localaddress", "localport", "rdomain"].includes(attr)) return null;
    if (attr === "localport") {
      if (!/^\d+$/.test(arg.tok) || Number(arg.tok) < 1 || Number(arg.tok) > 65535) return null;
      if (testConnection) lport = true;
    }
    i = arg.rest;
  }
  if (attributes === 0) return null;
  return lport ? "lport" : false;
}

/**
 * The effective value of KEYWORD (any case or alias) as `sshd -T` prints it,
 * or null when it is not modeled or the configuration is refused.
 */
export function effectiveSshd(cfg: SshdConfig, keyword: string): SshdEffective | null {
  if (cfg.errors.length > 0) return null;
  const name = canonicalSshdKeyword(keyword);
  return name === null ? null : (cfg.values.get(name) ?? null);
}

/**
 * The active lines of KEYWORD that would override a value placed at the top
 * of FILE: for first-wins keywords those processed before FILE is first read
 * while active, for MaxStartups (last wins) those after, and for options a
 * Match block may set, every line under a `Match all` (they apply last). Null when sshd never
 * reads FILE outside a Match (no Include reaches it), so a value there cannot
 * win. FILE's own lines are the caller's business.
 * @example overridersOf(evaluateSshd(tree), "PermitRootLogin", "/etc/ssh/sshd_config.d/00-bulwark.conf") // [{file: "/etc/ssh/sshd_config", line: 3}]: comment that line out
 */
export function overridersOf(cfg: SshdConfig, keyword: string, file: string): SshdSource[] | null {
  const name = canonicalSshdKeyword(keyword);
  const read = cfg.reads.find((r) => r.active && normPath(r.file) === normPath(file));
  if (name === null || read === undefined) return null;
  const starts = read.seq;
  const lines = cfg.occurrences.filter((o) => o.keyword === name && o.active);
  const chosen = name === "maxstartups" ? lines.filter((o) => o.seq > starts && normPath(o.file) !== normPath(file)) : lines.filter((o) => o.seq < starts);
  const out = chosen.map((o) => ({ file: o.file, line: o.line }));
  // A `Match all` line of an option a Match may set beats every global line, wherever it is.
  if (COPIED.has(name)) {
    for (const m of cfg.matchAllLines) {
      if (m.keyword !== name || normPath(m.file) === normPath(file) || out.some((o) => o.file === m.file && o.line === m.line)) continue;
      out.push({ file: m.file, line: m.line });
    }
  }
  return out;
}

/**
 * True when line LINE of FILE, given CONTENT, would decide KEYWORD's
 * effective value (and sshd accepts the result) — the exact question a
 * drop-in handler asks before writing.
 * @example wouldDecide(tree, "MaxAuthTries", "/etc/ssh/sshd_config.d/00-bulwark.conf", "MaxAuthTries 4\n", 1) // true when nothing earlier sets it
 */
export function wouldDecide(tree: SshdTree, keyword: string, file: string, content: string, line: number): boolean {
  const files = new Map(tree.files);
  files.set(normPath(file), content);
  const dir = normPath(file).replace(/\/[^/]*$/, "") || "/";
  const dirs = new Map(tree.dirs);
  const base = normPath(file).slice(dir.length + 1);
  const listing = dirs.get(dir);
  if (listing && !listing.includes(base)) dirs.set(dir, [...listing, base]);
  const eff = effectiveSshd(evaluateSshd({ ...tree, files, dirs }), keyword);
  return eff !== null && eff.source !== null && normPath(eff.source.file) === normPath(file) && eff.source.line === line;
}

/**
 * What `sshd -T` would print for KEYWORD set to VALUE in an otherwise empty
 * configuration (e.g. permitrootlogin "prohibit-password" → "without-password",
 * logingracetime "1m" → "60", ciphers "+aes128-cbc" → the full list), or null
 * when sshd would refuse the line. Lets a rule say a value the way a
 * configuration file says it.
 */
export function printedSshdValue(keyword: string, value: string): string | null {
  const name = canonicalSshdKeyword(keyword);
  if (name === null || /[\n\0]/.test(value)) return null;
  const cfg = evaluateSshd({ files: new Map([[SSHD_CONFIG, `${name} ${value}\n`]]), dirs: new Map(), complete: true });
  return cfg.errors.length > 0 ? null : (cfg.values.get(name)?.value ?? null);
}

/** How a keyword's printed value is compared item by item: comma lists, space lists, or not a list. */
export function sshdValueShape(keyword: string): "comma-list" | "space-list" | "scalar" | "number" {
  const k = K.get(keyword.toLowerCase());
  if (!k) return "scalar";
  if (k.kind === "algos") return "comma-list";
  if (k.kind === "accum" || k.kind === "hostkey" || k.kind === "authkeys") return "space-list";
  if (k.kind === "int" || k.kind === "time") return "number";
  return "scalar";
}
