/**
 * Shell text of the booted-system harness (issue 16): the initramfs /init that
 * switches to the real Debian root, the systemd unit that runs the scenario
 * fragments once multi-user.target is reached, the runner itself and the
 * helpers every fragment gets. Kept apart from the disk and boot code so the
 * guest-side protocol reads in one place; the fragment-facing contract is
 * test/live/README.md "Booted system".
 *
 * Marker protocol (lines on /dev/ttyS0, parsed by system-boot.ts):
 *   @@LIVE-BEGIN <uname -r>                   the runner started (multi-user reached)
 *   @@LIVE-PHASE <name> <ms>                  a guest-side timing
 *   @@LIVE <id> <PASS|FAIL|SKIP> <detail...>  one result (helpers below)
 *   @@LIVE-END                                every fragment ran; poweroff follows
 *   @@LIVE-FATAL <why>                        the initramfs could not switch root
 */

/** Where the per-run payload disk (/dev/vdb) is mounted in the booted system. */
export const PAYLOAD_MOUNT = "/live";
/** The compiled binary in the booted system (a link into the payload disk). */
export const GUEST_BULWARK = "/usr/local/bin/bulwark";
/** The runner's plan: one `lane|name|paths|ids` line per fragment, in run order. */
export const PLAN_PATH = "/live/system/plan.txt";
export const RUNNER_PATH = "/live/system/runner.sh";
export const SYSTEM_HELPERS_PATH = "/live/system/helpers.sh";
/**
 * Seconds one fragment may run on one path before `timeout` kills it. Generous:
 * under TCG on a 2-core machine shared with other test runs, QEMU gets a
 * quarter of a core and one bulwark run can take over a minute.
 */
export const FRAGMENT_TIMEOUT_S = 600;
/** Seconds one `bw` (bulwark) call may take. */
export const BW_TIMEOUT_S = 300;

/** Modules the initramfs loads to reach the ext4 disks (their deps follow via modprobe). */
export const ROOT_MODULES = ["virtio_pci", "virtio_blk", "ext4", "crc32c_generic"] as const;

/**
 * /init of the small initramfs: loads virtio + ext4, mounts the root disk rw
 * and the payload disk ro under it, moves the API file systems across (as
 * util-linux switch_root does, so systemd finds /dev populated) and execs
 * systemd through busybox switch_root. A failure prints @@LIVE-FATAL and
 * powers off at once, so the host reports it instead of waiting for a timeout.
 */
export const systemInitSh = `#!/bin/sh
export PATH=/sbin:/bin
fatal() { echo "@@LIVE-FATAL $*"; sleep 1; poweroff -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${ROOT_MODULES.join(" ")}; do modprobe "$m" || echo "[initramfs] modprobe $m failed"; done
i=0
while [ ! -b /dev/vda ] || [ ! -b /dev/vdb ]; do
  i=$((i + 1)); [ $i -gt 600 ] && fatal "no /dev/vda or /dev/vdb after 60 s"
  sleep 0.1
done
mkdir -p /newroot
mount -t ext4 -o rw /dev/vda /newroot || fatal "mounting the root disk /dev/vda failed"
mount -t ext4 -o ro /dev/vdb /newroot${PAYLOAD_MOUNT} || fatal "mounting the payload disk /dev/vdb failed"
for d in dev proc sys; do mount --move /$d /newroot/$d || fatal "moving /$d failed"; done
exec switch_root /newroot /sbin/init
`;

/** The oneshot unit installed (enabled) in the base disk; it runs whatever payload disk is attached. */
export const scenariosUnit = `[Unit]
Description=Bulwark live-system scenarios (test harness)
After=multi-user.target
ConditionPathExists=${RUNNER_PATH}

[Service]
Type=oneshot
ExecStart=/bin/sh ${RUNNER_PATH}
StandardInput=null
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
`;

/**
 * The runner: every fragment of the plan on each of its paths, each in a fresh
 * dash with the helpers sourced, fresh state and scratch dirs, under timeout.
 * Lanes (plan field 1) run concurrently, each as one background job whose
 * lines carry a `[lane]` prefix (markers are matched anywhere in a line, and a
 * line is one write, so lanes never split each other's markers); fragments of
 * one lane run in plan order. Ids a fragment declared but never printed are
 * reported FAIL here (with its exit status), so a crash or timeout is named at
 * the criterion it hid.
 */
export const runnerSh = `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 BULWARK=${GUEST_BULWARK}
# JavaScriptCore's optimising DFG/FTL tiers off: under TCG every JIT-emitted page is translated again by
# QEMU, and the optimising tiers compile the most (qemu-x86_64, a kernel-io check of the real image:
# 8.0 s -> 4.8 s). Not useJIT=0: bun:ffi needs the baseline JIT ("bun:ffi requires the JIT"), so the
# kernel-io path would be unavailable. Semantics do not change; production runs keep every tier.
export BUN_JSC_useDFGJIT=0
up_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
echo "@@LIVE-BEGIN $(uname -r)"
echo "@@LIVE-PHASE multi-user $(up_ms)"
# Where the boot time went (log only): what to mask next when boot gets slow. systemd-analyze
# refuses while this unit's own start job keeps the boot unfinished, so read the journal.
journalctl -b -o short-monotonic --no-pager 2>/dev/null | grep -E 'Reached target|Finished|Started|Run /init|switching root' | head -n 150
run_lane() {
  t_lane=$(up_ms)
  while IFS='|' read -r lane name paths ids; do
    [ "$lane" = "$1" ] && [ -n "$name" ] || continue
    for p in $paths; do
      tmp=/run/bulwark-live/$name/$p
      state=/var/lib/bulwark-live/$name/$p
      rm -rf "$tmp" "$state"; mkdir -p "$tmp" "$state"
      marks=$tmp.marks; : >"$marks"
      echo "===== fragment $name ($p): state $state, scratch $tmp"
      t0=$(up_ms)
      (
        cd "$tmp" || exit 97
        LIVE_NAME=$name LIVE_PATH=$p LIVE_STATE=$state LIVE_TMP=$tmp LIVE_MARKS=$marks \\
        LIVE_FILES=${PAYLOAD_MOUNT}/files/$name LIVE_DEBS=${PAYLOAD_MOUNT}/debs/$name \\
          timeout -k 10 ${FRAGMENT_TIMEOUT_S} sh -c '. "$1"; . "$2"' sh ${SYSTEM_HELPERS_PATH} "${PAYLOAD_MOUNT}/scenarios/$name.sh" </dev/null 2>&1
      )
      rc=$?
      echo "@@LIVE-PHASE fragment:$name/$p $(( $(up_ms) - t0 ))"
      why="fragment exited $rc before printing this marker"
      [ $rc -eq 124 ] && why="fragment timed out after ${FRAGMENT_TIMEOUT_S} s before printing this marker"
      for id in $ids; do
        grep -qx "$id/$p" "$marks" || printf '@@LIVE %s FAIL %s\\n' "$id/$p" "$why"
      done
    done
  done <${PLAN_PATH}
  echo "@@LIVE-PHASE lane:$1 $(( $(up_ms) - t_lane ))"
}
t_all=$(up_ms)
for lane in $(cut -d'|' -f1 ${PLAN_PATH} | awk '!seen[$0]++'); do
  # sed -u: one write per line, so the lanes' lines interleave whole
  run_lane "$lane" 2>&1 | sed -u "s/^/[$lane] /" &
done
wait
echo "@@LIVE-PHASE scenarios $(( $(up_ms) - t_all ))"
echo "@@LIVE-END"
sync
# -ff: straight to reboot(2). The root disk is a throw-away snapshot and the
# console is synchronous, so an orderly shutdown only costs time.
systemctl poweroff -ff
`;

/**
 * Helpers sourced before each fragment (the contract fragments are written against):
 *   environment  LIVE_PATH (kernel-io|shell), LIVE_STATE (fresh empty state dir), LIVE_TMP (fresh
 *                scratch dir, the cwd), LIVE_FILES (/live/files/NAME), LIVE_DEBS (/live/debs/NAME),
 *                LIVE_NAME, BULWARK (/usr/local/bin/bulwark)
 *   live_pass|live_fail|live_skip ID [DETAIL...]   one marker; ID spec/AC-NN gets /$LIVE_PATH appended
 *   live_check ID CMD...                           PASS iff CMD exits 0
 *   live_begin ID; live_expect DESC CMD...; live_expect_not DESC CMD...; live_note TEXT; live_end
 *                                                  one marker listing every failed expectation
 *   live_fresh_state NAME                          echoes another fresh empty state dir
 *   live_unit_state UNIT                           echoes `is-enabled/is-active`
 *   bw VERB ARGS...                                bulwark with --path/--state-dir (verbs that take
 *                                                  them, unless given) and --format json; sets BW_RC,
 *                                                  BW_OUT, BW_ERR; always returns 0
 *   bw_json_num KEY                                first `"KEY": N` number in $BW_OUT
 *   live_ssh_setup                                 a fresh key for root's logins over loopback
 *                                                  (authorized_keys kept in $LIVE_TMP); sets SSH_OPTS, ISSUE
 *   live_ssh_login                                 a NEW ssh session as root over loopback (stderr, with any
 *                                                  banner, in $LIVE_TMP/login.err); 0 iff it logged in
 *   live_ssh_banner_shown                          the last login printed /etc/issue.net's first line
 *   live_sshd_files                                sha256 of sshd_config and its drop-ins, sorted
 *   live_sshd_pid                                  ssh.service's main pid
 *   live_ssh_teardown                              root's authorized_keys as live_ssh_setup found it
 */
export const systemHelpersSh = `# sourced by ${RUNNER_PATH} before each fragment (POSIX sh)
: "\${LIVE_MARKS:=/dev/null}" "\${LIVE_PATH:=kernel-io}" "\${BULWARK:=${GUEST_BULWARK}}"
_live_id() {
  case $1 in */kernel-io|*/shell) printf '%s' "$1" ;; *) printf '%s/%s' "$1" "$LIVE_PATH" ;; esac
}
_live_emit() {
  _st=$1; _id=$(_live_id "$2"); shift 2
  # One marker per line whatever the detail holds: the parser is line based.
  printf '@@LIVE %s %s %s\\n' "$_id" "$_st" "$(printf '%s' "$*" | tr '\\r\\n' '  ' | cut -c1-1500)"
  echo "$_id" >>"$LIVE_MARKS"
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
live_begin() { LIVE_ID=$1; LIVE_FAILED=""; LIVE_NOTE=""; BW_OUT=/dev/null; BW_ERR=/dev/null; BW_RC=""; echo "----- $(_live_id "$1")"; }
live_expect() {
  _d=$1; shift
  if "$@" >/dev/null 2>&1; then :; else LIVE_FAILED="$LIVE_FAILED; $_d"; echo "[expect] FAILED: $_d"; fi
}
live_expect_not() {
  _d=$1; shift
  if "$@" >/dev/null 2>&1; then LIVE_FAILED="$LIVE_FAILED; $_d"; echo "[expect] FAILED: $_d"; fi
}
live_note() { LIVE_NOTE="$LIVE_NOTE $*"; }
live_end() {
  if [ -z "$LIVE_FAILED" ]; then
    live_pass "$LIVE_ID" "$LIVE_NOTE"
  else
    live_fail "$LIVE_ID" "FAILED:\${LIVE_FAILED#;} |$LIVE_NOTE | last bulwark (rc=\${BW_RC:-none}):" \\
      "$(grep -m1 '"detail"' "$BW_OUT" 2>/dev/null | sed 's/^ *//')" "$(tail -c 300 "$BW_ERR" 2>/dev/null)"
  fi
}
live_fresh_state() {
  _fs=$LIVE_STATE.$1
  rm -rf "$_fs"; mkdir -p "$_fs"; printf '%s' "$_fs"
}
live_unit_state() {
  printf '%s/%s' "$(systemctl is-enabled "$1" 2>/dev/null)" "$(systemctl is-active "$1" 2>/dev/null)"
}
BW_N=0
bw() {
  _verb=$1; shift
  BW_N=$((BW_N + 1))
  BW_OUT=$LIVE_TMP/bw-$BW_N-$_verb.json; BW_ERR=$BW_OUT.err
  _want_path=no; _want_state=no
  case $_verb in
    check|remediate|rollback|recover|plan) _want_path=yes ;;
    rules) [ "\${1:-}" = list ] && _want_path=yes ;;
  esac
  case $_verb in check|remediate|rollback|recover|history|confirm|doctor) _want_state=yes ;; esac
  case " $* " in *" --path "*|*" --path="*) _want_path=no ;; esac
  case " $* " in *" --state-dir "*|*" --state-dir="*) _want_state=no ;; esac
  [ $_want_path = yes ] && set -- "$@" --path "$LIVE_PATH"
  [ $_want_state = yes ] && set -- "$@" --state-dir "$LIVE_STATE"
  case " $* " in *" --format "*|*" --format="*) ;; *) set -- "$@" --format json ;; esac
  echo "[bw] bulwark $_verb $*"
  _t0=$(awk '{ printf "%d", $1 * 1000 }' /proc/uptime)
  env NO_COLOR=1 \${FAULT:+BULWARK_FAULT=$FAULT} timeout ${BW_TIMEOUT_S} "$BULWARK" "$_verb" "$@" >"$BW_OUT" 2>"$BW_ERR"
  BW_RC=$?
  echo "[bw] rc=$BW_RC in $(( $(awk '{ printf "%d", $1 * 1000 }' /proc/uptime) - _t0 )) ms"; cat "$BW_OUT"; cat "$BW_ERR"
  return 0
}
bw_json_num() {
  sed -n "s/.*\\"$1\\": *\\([0-9][0-9]*\\).*/\\1/p" "$BW_OUT" | head -n 1
}
_LIVE_AK=/root/.ssh/authorized_keys
live_ssh_setup() {
  ISSUE=$(head -n 1 /etc/issue.net)
  SSH_OPTS="-i $LIVE_TMP/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=60"
  mkdir -p /root/.ssh && chmod 700 /root/.ssh
  [ -e "$_LIVE_AK" ] && cp -p "$_LIVE_AK" "$LIVE_TMP/ak.bak"
  ssh-keygen -q -t ed25519 -N '' -f "$LIVE_TMP/id"
  cat "$LIVE_TMP/id.pub" >>"$_LIVE_AK" && chmod 600 "$_LIVE_AK"
}
live_ssh_login() {
  # shellcheck disable=SC2086
  timeout 90 ssh $SSH_OPTS root@127.0.0.1 echo logged-in >"$LIVE_TMP/login.out" 2>"$LIVE_TMP/login.err"
  _rc=$?
  echo "[ssh] rc=$_rc out=$(cat "$LIVE_TMP/login.out") err=$(tr '\n' ' ' <"$LIVE_TMP/login.err")"
  [ $_rc -eq 0 ] && grep -qx logged-in "$LIVE_TMP/login.out"
}
live_ssh_banner_shown() { grep -qF "$ISSUE" "$LIVE_TMP/login.err"; }
live_sshd_files() { sha256sum /etc/ssh/sshd_config /etc/ssh/sshd_config.d/* 2>/dev/null | sort; }
live_sshd_pid() { systemctl show -p MainPID --value ssh.service; }
live_ssh_teardown() {
  if [ -e "$LIVE_TMP/ak.bak" ]; then cp -p "$LIVE_TMP/ak.bak" "$_LIVE_AK"; else rm -f "$_LIVE_AK"; fi
}
`;
