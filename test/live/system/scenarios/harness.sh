# Proves the booted-system harness itself (specs/live/live-system.spec.yaml).
# Runs first, once per path, in the booted Debian 12 root (see test/live/README.md "Booted system").
# $LIVE_FILES/rules-sysctl holds the shipped rules/sysctl/*.yml (added by system.test.ts).
#
# live-id: live-system/AC-01 systemd is PID 1 and multi-user.target is active on the booted real root
# live-id: live-system/AC-02 the compiled bulwark runs inside and check --tag sysctl agrees with sysctl -n on the running kernel
# live-id: live-system/AC-03 remediate then rollback of a shipped sysctl rule restores the runtime value and the sysctl files byte for byte

# ---- AC-01: systemd is PID 1, multi-user.target reached ----------------------
live_begin live-system/AC-01
exe=$(readlink /proc/1/exe)
live_expect "PID 1 is /usr/lib/systemd/systemd (got $exe)" test "$exe" = /usr/lib/systemd/systemd
mu=$(systemctl is-active multi-user.target)
live_expect "multi-user.target active (got $mu)" test "$mu" = active
root=$(findmnt -n -o SOURCE,FSTYPE /)
live_expect "/ is /dev/vda ext4 (got $root)" test "$(echo $root)" = "/dev/vda ext4"
live_note "system: $(systemctl is-system-running 2>&1); failed units: $(systemctl list-units --state=failed --no-legend --plain 2>/dev/null | awk '{ printf "%s ", $1 }')"
live_end

# ---- AC-02: bulwark check --tag sysctl agrees with sysctl -n -----------------
# expectations KEY EXPECTED COMPARATOR per rule id, read from the shipped YAML (one check each)
EXP=$LIVE_TMP/sysctl-expectations
for f in "$LIVE_FILES"/rules-sysctl/*.yml; do
  awk '
    /^id:/ { id = $2 }
    /^[ \t]+key:/ && key == "" { key = $2 }
    /^[ \t]+expected:/ && want == "" { want = $2; gsub(/"/, "", want) }
    /^[ \t]+comparator:/ && cmp == "" { cmp = $2 }
    END { if (id != "" && key != "") print id, key, want, (cmp == "" ? "eq" : cmp) }
  ' "$f"
done >"$EXP"

# A rule passes when the running kernel AND the boot-time configuration hold the value
# (bulwark's sysctl_value semantics). Judges: `sysctl -n` for the kernel, systemd's own
# `systemd-sysctl --cat-config` (every sysctl.d file in the order systemd applies them;
# the last assignment wins) for the configuration.
CAT=$LIVE_TMP/sysctl-cat-config
/usr/lib/systemd/systemd-sysctl --cat-config >"$CAT" 2>&1
# meets VALUE WANT CMP: exit 0 when VALUE satisfies WANT under CMP (eq | ge)
meets() {
  case $3 in
    ge) [ "$1" -ge "$2" ] 2>/dev/null ;;
    *) [ "$1" = "$2" ] ;;
  esac
}
# persisted KEY: the value the last assignment of KEY in the configuration gives (empty: none)
persisted() {
  awk -v k="$1" '
    /^[ \t]*[#;]/ { next }
    { line = $0; sub(/^[ \t]*-/, "", line); i = index(line, "=") }
    i > 0 {
      name = substr(line, 1, i - 1); gsub(/[ \t]/, "", name); gsub(/\//, ".", name)
      val = substr(line, i + 1); gsub(/^[ \t]+|[ \t]+$/, "", val)
      if (name == k) last = val
    }
    END { print last }
  ' "$CAT"
}
# runtime_ok RULE: pass | fail | absent, from sysctl -n alone
runtime_ok() {
  set -- $(grep "^$1 " "$EXP")
  [ $# -eq 4 ] || { echo unknown; return; }
  v=$(sysctl -n "$2" 2>/dev/null) || { echo absent; return; }
  if meets "$v" "$3" "$4"; then echo pass; else echo fail; fi
}
# judge RULE: our own verdict: pass | fail | absent | unknown
judge() {
  rt=$(runtime_ok "$1")
  [ "$rt" = pass ] || { echo "$rt"; return; }
  set -- $(grep "^$1 " "$EXP")
  p=$(persisted "$2")
  if [ -n "$p" ] && meets "$p" "$3" "$4"; then echo pass; else echo fail; fi
}

live_begin live-system/AC-02
live_expect "bulwark --version runs ($("$BULWARK" --version 2>&1 | head -n 1))" "$BULWARK" --version
bw check --tag sysctl --format jsonl
live_expect "check exits 0 or 2 (got $BW_RC)" test "$BW_RC" -eq 0 -o "$BW_RC" -eq 2
path_seen=$(sed -n 's/.*"type":"summary".*"path":"\([a-z-]*\)".*/\1/p' "$BW_OUT")
live_expect "check ran on $LIVE_PATH (target.path $path_seen)" test "$path_seen" = "$LIVE_PATH"
compared=0; skipped=0
sed -n 's/.*"type":"result","rule":"\([^"]*\)".*"status":"\([a-z]*\)".*/\1 \2/p' "$BW_OUT" >"$LIVE_TMP/verdicts"
while read -r rule status; do
  ours=$(judge "$rule")
  case $status in
    pass|fail)
      compared=$((compared + 1))
      [ "$ours" = "$status" ] || LIVE_FAILED="$LIVE_FAILED; $rule: bulwark $status, sysctl -n says $ours" ;;
    error) [ "$ours" = absent ] || LIVE_FAILED="$LIVE_FAILED; $rule: bulwark error, sysctl -n says $ours" ;;
    *) skipped=$((skipped + 1)) ;;
  esac
done <"$LIVE_TMP/verdicts"
live_expect "at least 20 sysctl rules compared (got $compared)" test "$compared" -ge 20
live_note "compared $compared rules, $skipped skipped, of $(wc -l <"$EXP") shipped"
live_end

# ---- AC-03: remediate + rollback of one shipped sysctl rule -------------------
# The first failing rule whose RUNTIME value differs (so the kernel changes and must change
# back), never a one-way switch; judged by sysctl -n and sha256sum, never by bulwark.
sysctl_files() {
  # every sysctl configuration location systemd-sysctl and procps read, with link targets and hashes
  for d in /etc/sysctl.conf /etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d; do
    [ -e "$d" ] || continue
    find "$d" \( -type f -exec sha256sum {} + \) -o \( -type l -printf 'link %p -> %l\n' \)
  done | sort
}
live_begin live-system/AC-03
target=""
while read -r rule status; do
  case $rule in *kexec-load-disabled|*modules-disabled|*ptrace-scope) continue ;; esac
  [ "$status" = fail ] && [ "$(runtime_ok "$rule")" = fail ] && { target=$rule; break; }
done <"$LIVE_TMP/verdicts"
if [ -z "$target" ]; then
  LIVE_FAILED="; no shipped sysctl rule has a failing runtime value on this kernel: nothing to remediate"
else
  set -- $(grep "^$target " "$EXP"); key=$2; want=$3
  v0=$(sysctl -n "$key"); files0=$(sysctl_files)
  live_note "rule $target key $key: $v0 -> want $want"
  bw remediate --rule "$target"
  live_expect "remediate exits 0 (got $BW_RC)" test "$BW_RC" -eq 0
  v1=$(sysctl -n "$key")
  live_expect "after remediate sysctl -n $key = $want (got $v1)" test "$v1" = "$want"
  live_expect_not "after remediate some sysctl file changed" test "$(sysctl_files)" = "$files0"
  run=$(bw_json_num run_id)
  live_expect "remediate printed a run_id (got '$run')" test -n "$run"
  bw rollback --run "${run:-0}"
  live_expect "rollback exits 0 (got $BW_RC)" test "$BW_RC" -eq 0
  v2=$(sysctl -n "$key")
  live_expect "after rollback sysctl -n $key = $v0 (got $v2)" test "$v2" = "$v0"
  files2=$(sysctl_files)
  live_expect "after rollback the sysctl files are byte-identical" test "$files2" = "$files0"
  [ "$files2" = "$files0" ] || { echo "before:"; echo "$files0"; echo "after:"; echo "$files2"; }
  # whatever happened, the next fragment starts from the boot value
  sysctl -q -w "$key=$v0" >/dev/null 2>&1
fi
live_end
