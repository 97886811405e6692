/**
 * The map from SCAP Security Guide (SSG, ComplianceAsCode) ids, as OpenSCAP
 * tailoring files name them, to Bulwark's rule ids, variables and profiles.
 * docs/tailoring.md shows it as a table.
 *
 * Rule ids are derived from what each rule already carries — its check method
 * and parameters — by SSG's own naming conventions, so a new rule maps without
 * anyone editing a list: a `kernel_module_state` check of cramfs is SSG's
 * `kernel_module_cramfs_disabled`, a `sysctl_value` check of net.ipv4.ip_forward
 * is `sysctl_net_ipv4_ip_forward`. Only where SSG's names follow no such rule
 * (sshd keywords, login.defs keys) does a small table keyed by the check's own
 * key supply the name. Variables and profiles have no such structure: they are
 * tables. Pure data and functions.
 */
import type { Rule } from "./schema.ts";

/** The prefix of every SSG rule id in an XCCDF 1.2 document. */
export const SSG_RULE_PREFIX = "xccdf_org.ssgproject.content_rule_";
/** The prefix of every SSG value id. */
export const SSG_VALUE_PREFIX = "xccdf_org.ssgproject.content_value_";
/** The prefix of every SSG profile id. */
export const SSG_PROFILE_PREFIX = "xccdf_org.ssgproject.content_profile_";

/** SSG profile (short id) → Bulwark profile. Ubuntu's SSG content names CIS levels one way, RHEL's another. */
export const SSG_PROFILES: Readonly<Record<string, string>> = {
  cis_level1_server: "cis-l1-server",
  cis_level2_server: "cis-l2-server",
  cis_level1_workstation: "cis-l1-workstation",
  cis_level2_workstation: "cis-l2-workstation",
  cis_server_l1: "cis-l1-server",
  cis: "cis-l2-server",
  cis_workstation_l1: "cis-l1-workstation",
  cis_workstation_l2: "cis-l2-workstation",
  stig: "stig",
  stig_gui: "stig",
};

/**
 * SSG value (short id) → Bulwark variable (benchmarks/variables.yml), where
 * both mean the same setting in the same unit. Left out on purpose:
 * var_accounts_fail_delay (seconds; pam_faildelay_microseconds is in µs).
 */
export const SSG_VALUES: Readonly<Record<string, string>> = {
  var_accounts_maximum_age_login_defs: "login_defs_pass_max_days",
  var_accounts_minimum_age_login_defs: "login_defs_pass_min_days",
  var_accounts_password_warn_age_login_defs: "login_defs_pass_warn_age",
  var_accounts_user_umask: "login_defs_umask",
  var_account_disable_post_pw_expiration: "account_inactive_days",
  var_password_hashing_min_rounds_login_defs: "shadow_crypt_min_rounds",
  var_password_pam_minlen: "pam_pwquality_minlen",
  var_password_pam_minclass: "pam_pwquality_minclass",
  var_password_pam_difok: "pam_pwquality_difok",
  var_password_pam_maxrepeat: "pam_pwquality_maxrepeat",
  var_password_pam_maxsequence: "pam_pwquality_maxsequence",
  var_password_pam_remember: "password_remember",
  var_accounts_passwords_pam_faillock_deny: "pam_faillock_deny",
  var_accounts_passwords_pam_faillock_unlock_time: "pam_faillock_unlock_time",
  var_accounts_tmout: "shell_idle_timeout_seconds",
  var_logind_session_timeout: "logind_idle_timeout_seconds",
  inactivity_timeout_value: "gdm_idle_delay_seconds",
  var_screensaver_lock_delay: "gdm_lock_delay_seconds",
  sshd_idle_timeout_value: "ssh_client_alive_interval",
  sshd_max_auth_tries_value: "ssh_max_auth_tries",
  var_sshd_max_sessions: "ssh_max_sessions",
  sshd_approved_ciphers: "ssh_approved_ciphers",
  sshd_approved_macs: "ssh_approved_macs",
};

/** SSG's names for an sshd keyword check (sshd_effective_config key → SSG rule ids). */
export const SSG_SSHD_KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  permitrootlogin: ["sshd_disable_root_login"],
  permitemptypasswords: ["sshd_disable_empty_passwords"],
  hostbasedauthentication: ["disable_host_auth"],
  ignorerhosts: ["sshd_disable_rhosts"],
  permituserenvironment: ["sshd_do_not_permit_user_env"],
  maxauthtries: ["sshd_set_max_auth_tries"],
  maxsessions: ["sshd_set_max_sessions"],
  maxstartups: ["sshd_set_maxstartups"],
  logingracetime: ["sshd_set_login_grace_time"],
  clientaliveinterval: ["sshd_set_idle_timeout"],
  clientalivecountmax: ["sshd_set_keepalive"],
  loglevel: ["sshd_set_loglevel_info", "sshd_set_loglevel_verbose"],
  banner: ["sshd_enable_warning_banner", "sshd_enable_warning_banner_net"],
  ciphers: ["sshd_use_approved_ciphers"],
  macs: ["sshd_use_approved_macs"],
  gssapiauthentication: ["sshd_disable_gssapi_auth"],
  disableforwarding: ["sshd_disable_forwarding"],
  usepam: ["sshd_enable_pam"],
};

/** SSG's names for a login.defs key check (config_value of /etc/login.defs). */
export const SSG_LOGIN_DEFS: Readonly<Record<string, readonly string[]>> = {
  PASS_MAX_DAYS: ["accounts_maximum_age_login_defs"],
  PASS_MIN_DAYS: ["accounts_minimum_age_login_defs"],
  PASS_WARN_AGE: ["accounts_password_warn_age_login_defs"],
  UMASK: ["accounts_umask_etc_login_defs"],
};

/** A path as SSG spells it inside a rule name: /etc/passwd → etc_passwd. */
function pathSlug(path: string): string {
  return path.replace(/^\/+/, "").replace(/[/.-]+/g, "_");
}

/**
 * The SSG short rule ids (without {@link SSG_RULE_PREFIX}) that the first
 * check of each of RULE's implementations answers to, by SSG's conventions,
 * the default implementation's first; empty when SSG names those checks in no
 * predictable way. Per-platform variants count: SSG names apache's service
 * `httpd` on RHEL and `apache2` on Debian, and Bulwark's rule has both.
 *
 * @example ssgRuleIds(cramfsRule) // ["kernel_module_cramfs_disabled"]
 */
export function ssgRuleIds(rule: Rule): string[] {
  const impls = [...rule.implementations].sort((a, b) => Number(Boolean(b.default)) - Number(Boolean(a.default)));
  return [...new Set(impls.flatMap((impl) => (impl.checks[0] ? checkIds(impl.checks[0]) : [])))];
}

function checkIds(check: Rule["implementations"][number]["checks"][number]): string[] {
  const p = (check.params ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof p[k] === "string" ? (p[k] as string) : undefined);
  switch (check.method) {
    case "kernel_module_state": {
      const n = str("name");
      // SSG keeps a dash where the module name has one (kernel_module_usb-storage_disabled); accept both.
      return n ? [...new Set([`kernel_module_${n}_disabled`, `kernel_module_${n.replace(/-/g, "_")}_disabled`])] : [];
    }
    case "sysctl_value": {
      const k = str("key");
      return k ? [`sysctl_${k.replace(/[./]/g, "_")}`] : [];
    }
    case "service_state": {
      const n = str("name")?.replace(/\.service$/, "");
      if (!n) return [];
      if (p.enabled === true || p.active === true) return [`service_${n}_enabled`];
      return [`service_${n}_disabled`];
    }
    case "package_state": {
      const n = str("name");
      if (!n) return [];
      return [str("state") === "absent" ? `package_${n}_removed` : `package_${n}_installed`];
    }
    case "mount_option": {
      const m = str("mount_point");
      const opts = Array.isArray(p.options) ? (p.options as unknown[]).filter((o): o is string => typeof o === "string") : [];
      return m ? opts.map((o) => `mount_option_${pathSlug(m)}_${o}`) : [];
    }
    case "file_permission": {
      const f = str("path");
      // SSG splits one file's ownership and mode into three rules; Bulwark checks all three in one.
      return f && !f.endsWith("-") ? ["permissions", "owner", "groupowner"].map((k) => `file_${k}_${pathSlug(f)}`) : [];
    }
    case "sshd_effective_config": {
      const k = str("key")?.toLowerCase();
      return k ? [...(SSG_SSHD_KEYWORDS[k] ?? [])] : [];
    }
    case "config_value":
      return str("path") === "/etc/login.defs" ? [...(SSG_LOGIN_DEFS[str("key") ?? ""] ?? [])] : [];
    default:
      return [];
  }
}

/** SSG short rule id → the Bulwark rule ids that answer to it, for RULES. */
export function ssgRuleMap(rules: readonly Rule[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const r of rules) {
    for (const id of ssgRuleIds(r)) {
      const list = map.get(id) ?? [];
      if (!list.includes(r.id)) list.push(r.id);
      map.set(id, list);
    }
  }
  return map;
}
