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
# Few processes on purpose: under TCG on a loaded machine each fork+exec costs tens of ms.
# A rule passes when the running kernel AND the boot-time configuration hold the value
# (bulwark's sysctl_value semantics). Judges: procps `sysctl` for the kernel, systemd's own
# `systemd-sysctl --cat-config` (every sysctl.d file in the order systemd applies them; the
# last assignment wins) for the configuration.
EXP=$LIVE_TMP/sysctl-expectations     # RULE KEY WANT CMP, from the shipped YAML (one check each)
awk '
  FNR == 1 { if (id != "" && key != "") print id, key, want, (cmp == "" ? "eq" : cmp); id = key = want = cmp = "" }
  /^id:/ { id = $2 }
  /^[ \t]+key:/ && key == "" { key = $2 }
  /^[ \t]+expected:/ && want == "" { want = $2; gsub(/"/, "", want) }
  /^[ \t]+comparator:/ && cmp == "" { cmp = $2 }
  END { if (id != "" && key != "") print id, key, want, (cmp == "" ? "eq" : cmp) }
' "$LIVE_FILES"/rules-sysctl/*.yml >"$EXP"
# "key = value" for every key the kernel has (an absent key is simply missing)
sysctl $(awk '{ print $2 }' "$EXP") >"$LIVE_TMP/sysctl-runtime" 2>/dev/null
/usr/lib/systemd/systemd-sysctl --cat-config >"$LIVE_TMP/sysctl-cat-config" 2>&1

live_begin live-system/AC-02
live_expect "bulwark --version runs ($("$BULWARK" --version 2>&1 | head -n 1))" "$BULWARK" --version
bw check --tag sysctl --format jsonl
live_expect "check exits 0 or 2 (got $BW_RC)" test "$BW_RC" -eq 0 -o "$BW_RC" -eq 2
path_seen=$(sed -n 's/.*"type":"summary".*"path":"\([a-z-]*\)".*/\1/p' "$BW_OUT")
live_expect "check ran on $LIVE_PATH (target.path $path_seen)" test "$path_seen" = "$LIVE_PATH"
sed -n 's/.*"type":"result","rule":"\([^"]*\)".*"status":"\([a-z]*\)".*/\1 \2/p' "$BW_OUT" >"$LIVE_TMP/verdicts"
# One awk joins it all. Prints "MISMATCH rule: ...", "CANDIDATE rule key want" (shipped rules
# whose runtime value fails, in file order: AC-03 material) and "COUNTS compared skipped shipped".
awk -v EXP="$EXP" -v RT="$LIVE_TMP/sysctl-runtime" -v CAT="$LIVE_TMP/sysctl-cat-config" '
  function meets(v, w, c) { return c == "ge" ? (v + 0 >= w + 0) : (v == w) }
  BEGIN {
    while ((getline l < EXP) > 0) { split(l, a, " "); key[a[1]] = a[2]; want[a[1]] = a[3]; cmp[a[1]] = a[4]; order[++shipped] = a[1] }
    while ((getline l < RT) > 0) { i = index(l, " = "); if (i) rt[substr(l, 1, i - 1)] = substr(l, i + 3) }
    while ((getline l < CAT) > 0) {
      if (l ~ /^[ \t]*[#;]/) continue
      sub(/^[ \t]*-/, "", l); i = index(l, "="); if (!i) continue
      n = substr(l, 1, i - 1); gsub(/[ \t]/, "", n); gsub(/\//, ".", n)
      v = substr(l, i + 1); gsub(/^[ \t]+|[ \t]+$/, "", v); conf[n] = v
    }
  }
  {
    r = $1; st = $2; k = key[r]
    if (k == "") { print "MISMATCH " r ": not a shipped sysctl rule"; next }
    if (!(k in rt)) ours = "absent"
    else if (!meets(rt[k], want[r], cmp[r])) ours = "fail"
    else ours = ((k in conf) && meets(conf[k], want[r], cmp[r])) ? "pass" : "fail"
    # a key the kernel lacks cannot pass: bulwark may call it fail or error
    if (st == "pass" || st == "fail" || st == "error") {
      compared++
      if (ours == "absent" ? st == "pass" : ours != st) print "MISMATCH " r ": bulwark " st ", sysctl/systemd-sysctl say " ours
    } else skipped++
  }
  END {
    # AC-03 material from sysctl alone (not from the verdicts: a failed check must not hide it)
    for (j = 1; j <= shipped; j++) { r = order[j]; k = key[r]; if ((k in rt) && !meets(rt[k], want[r], cmp[r])) print "CANDIDATE", r, k, want[r] }
    print "COUNTS", compared + 0, skipped + 0, shipped + 0
  }
' "$LIVE_TMP/verdicts" >"$LIVE_TMP/judged"
cat "$LIVE_TMP/judged"
set -- $(grep '^COUNTS' "$LIVE_TMP/judged"); compared=${2:-0}
live_expect "at least 20 sysctl rules compared (got $compared)" test "$compared" -ge 20
mism=$(grep '^MISMATCH' "$LIVE_TMP/judged" | sed 's/^MISMATCH //' | tr '\n' ';')
live_expect "bulwark agrees with sysctl: ${mism:-}" test -z "$mism"
live_note "compared $compared rules, ${3:-0} skipped, of ${4:-0} shipped"
live_end

# ---- AC-03: remediate + rollback of one shipped sysctl rule -------------------
# The first rule whose RUNTIME value fails (so the kernel must change and change back), never a
# one-way switch; judged by `sysctl -n` and sha256sum, never by bulwark.
sysctl_files() {
  # every sysctl configuration location systemd-sysctl and procps read: hashes and link targets
  for d in /etc/sysctl.conf /etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d; do
    [ -e "$d" ] || continue
    find "$d" \( -type f -exec sha256sum {} + \) -o \( -type l -printf 'link %p -> %l\n' \)
  done | sort
}
live_begin live-system/AC-03
set -- $(grep '^CANDIDATE' "$LIVE_TMP/judged" | grep -v -e kexec-load-disabled -e modules-disabled -e ptrace-scope | head -n 1)
if [ $# -ne 4 ]; then
  LIVE_FAILED="; no shipped sysctl rule has a failing runtime value on this kernel: nothing to remediate"
else
  target=$2; key=$3; want=$4
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
