/**
 * Shell text that runs inside the VM: the /init script and the marker
 * helpers scenario scripts get for free. Kept apart from the archive builder
 * so the guest-side protocol can be read in one place.
 *
 * Marker protocol (one line each on the serial console, parsed by boot.ts):
 *   @@LIVE-BEGIN <uname -r>
 *   @@LIVE <scenario-id> <PASS|FAIL|SKIP> <detail...>
 *   @@LIVE-EXIT <exit status of the scenario script>
 *   @@LIVE-END
 */

export const SCENARIO_PATH = "/live/scenario.sh";
export const HELPERS_PATH = "/live/helpers.sh";

/**
 * Helpers, sourced before the scenario script:
 *   live_pass ID [DETAIL...]      print a PASS marker
 *   live_fail ID [DETAIL...]      print a FAIL marker
 *   live_skip ID [DETAIL...]      print a SKIP marker
 *   live_check ID CMD [ARGS...]   run CMD; PASS if it exits 0, else FAIL with
 *                                 its exit status and (flattened) output
 *   live_loaded NAME              exit 0 iff NAME (`_` form) is in /proc/modules
 */
export const helpersSh = `# sourced by /init before the scenario script
_live_emit() {
  _st=$1; _id=$2; shift 2
  # One marker per line whatever the detail holds: the parser is line based.
  printf '@@LIVE %s %s %s\\n' "$_id" "$_st" "$(printf '%s' "$*" | tr '\\r\\n' '  ')"
}
live_pass() { _live_emit PASS "$@"; }
live_fail() { _live_emit FAIL "$@"; }
live_skip() { _live_emit SKIP "$@"; }
live_check() {
  _cid=$1; shift
  _out=$("$@" 2>&1); _rc=$?
  if [ $_rc -eq 0 ]; then live_pass "$_cid" "$_out"; else live_fail "$_cid" "exit=$_rc $_out"; fi
  return $_rc
}
live_loaded() { grep -q "^$1 " /proc/modules; }
`;

export const initSh = `#!/bin/sh
# PID 1 of the live-kernel VM. Never exits normally: returning from init
# panics the kernel, which with panic=-1 and -no-reboot would also stop QEMU,
# but poweroff is cleaner and keeps the log free of a panic trace.
export PATH=/sbin:/bin
export HOME=/root
# JavaScriptCore's optimising DFG/FTL tiers off (see system-guest.ts): under TCG their code is translated
# twice; the baseline JIT stays, bun:ffi needs it. Production runs keep every tier.
export BUN_JSC_useDFGJIT=0
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo "@@LIVE-BEGIN $(uname -r)"
cd /
sh -c ". ${HELPERS_PATH}; . ${SCENARIO_PATH}" </dev/null
echo "@@LIVE-EXIT $?"
echo "@@LIVE-END"
sync
poweroff -f
`;
