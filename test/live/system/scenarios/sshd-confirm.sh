# The confirm deadman against a real ssh session under logind (specs/live/sshd-reload-booted.spec.yaml):
# remediate --confirm-within runs OVER ssh, the connection ends, logind stops the session's scope
# (KillUserProcesses=yes, root included), and the watcher must still roll the run back at the deadline.
# Judged by the process table, sshd -T, sshd's files and a real ssh login over loopback, never by bulwark
# (except `history`, the operator's view of the outcome).
# live-id: sshd-reload-booted/AC-02 remediate --confirm-within over ssh, session ended and cleaned up by logind: the watcher survives, rolls back at the deadline, sshd reloaded
# live-lane: sshd
# (the "sshd" lane: fragments that act on sshd run one after the other; the base disk has libpam-systemd,
# so an ssh login is a logind session as on a real server)

DEADLINE=50
DROPIN_DIR=/etc/systemd/logind.conf.d
DROPIN=$DROPIN_DIR/zz-bulwark-live-kill.conf
stamp() { echo "[time] $(date -u +%H:%M:%S) $*"; }
live_ssh_setup

# The real session cleanup: pam_systemd makes each ssh login a logind session (session-N.scope), and
# KillUserProcesses=yes stops the whole scope when the session ends, whatever setsid or SIGHUP handling
# its processes did. logind never kills root's processes while KillExcludeUsers is empty (the default,
# and an empty assignment alike: manager_shall_kill), so it names some other user.
pam0=$(sha256sum /etc/pam.d/common-session)
dropin_dir_existed=no; [ -d "$DROPIN_DIR" ] && dropin_dir_existed=yes
pam_st() { dpkg-query -W -f='${Status}' libpam-systemd 2>/dev/null; }
mkdir -p "$DROPIN_DIR"
printf '[Login]\nKillUserProcesses=yes\nKillExcludeUsers=nobody\n' >"$DROPIN"
systemctl restart systemd-logind.service
stamp "set up"

alive() { kill -0 "$1" 2>/dev/null; }
uptime_s() { cut -d. -f1 /proc/uptime; }

live_begin sshd-reload-booted/AC-02
live_expect "libpam-systemd installed in the base disk (got $(pam_st))" test "$(pam_st)" = "install ok installed"
live_expect "logind restarted with KillUserProcesses=yes" sh -c 'busctl get-property org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager KillUserProcesses | grep -qx "b true"'
files0=$(live_sshd_files); pid0=$(live_sshd_pid)

# remediate over ssh; beside it a control that does what setsid alone does (new session, hangups ignored),
# which logind's cleanup must kill, or the test proves nothing. The command's cgroup and logind session
# id go to stderr; the ssh connection ends when remediate returns. (ssh passes no environment, so the
# runner's BUN_JSC_useDFGJIT=0 is given again; the watcher inherits it from remediate.)
stamp "ssh remediate"
# shellcheck disable=SC2086
timeout 600 ssh $SSH_OPTS root@127.0.0.1 \
  "cat /proc/self/cgroup >&2; echo \"session-id=\$XDG_SESSION_ID\" >&2
   setsid sh -c 'echo \$\$ >$LIVE_TMP/control.pid; trap \"\" HUP; exec sleep 600' </dev/null >/dev/null 2>&1 &
   BUN_JSC_useDFGJIT=0 $BULWARK remediate --rule ssh-banner --confirm-within $DEADLINE --path $LIVE_PATH --state-dir $LIVE_STATE --format json" \
  >"$LIVE_TMP/remote.out" 2>"$LIVE_TMP/remote.err"
ssh_rc=$?
t_end=$(uptime_s)
# First, while the deadline is far: logind's cleanup kills the control; is the watcher still there?
# (builtins only in the loop: a fork costs up to a second under TCG)
cpid=$(cat "$LIVE_TMP/control.pid" 2>/dev/null)
wpid=$(sed -n 's/.*(watcher pid \([0-9][0-9]*\)).*/\1/p' "$LIVE_TMP/remote.err" | head -n 1)
n=0; while [ -n "$cpid" ] && [ -d "/proc/$cpid" ] && [ $n -lt 60 ]; do sleep 1; n=$((n + 1)); done
control_gone=no; [ -n "$cpid" ] && [ ! -d "/proc/$cpid" ] && control_gone=yes
watcher_there=no; [ -n "$wpid" ] && [ -d "/proc/$wpid" ] && watcher_there=yes
stamp "ssh returned rc=$ssh_rc; control ${cpid:-?} gone=$control_gone after ${n} s; watcher ${wpid:-?} there=$watcher_there"
echo "[watcher] cgroup: $(cat "/proc/${wpid:-0}/cgroup" 2>/dev/null || echo gone)"
echo "[remote] err: $(tr '\n' ' ' <"$LIVE_TMP/remote.err" | cut -c1-1200)"
BW_OUT=$LIVE_TMP/remote.out; BW_ERR=$LIVE_TMP/remote.err; BW_RC=$ssh_rc
sid=$(sed -n 's/^session-id=//p' "$LIVE_TMP/remote.err")
# remediate's own warning names the deadline and the watcher's pid (said even with --format json)
deadline_iso=$(sed -n 's/.*rolled back automatically at \([^ ]*\) .*/\1/p' "$LIVE_TMP/remote.err" | head -n 1)
deadline_s=$(date -d "${deadline_iso:-now}" +%s)
live_note "watcher pid ${wpid:-?}, control pid ${cpid:-?}, session ${sid:-?}, deadline ${deadline_iso:-?}."
live_expect "remediate over ssh exits 0 (got $ssh_rc)" test "$ssh_rc" -eq 0
live_expect "the ssh command ran in logind session scope session-$sid.scope" grep -q "session-$sid.scope" "$LIVE_TMP/remote.err"
live_expect "control: the setsid'd process (pid ${cpid:-?}) was killed by logind's cleanup" test "$control_gone" = yes
live_expect "the cleanup was observed before the deadline ($((deadline_s - $(date +%s))) s left)" test "$(date +%s)" -lt "$deadline_s"
live_expect "the watcher (pid ${wpid:-?}) survives the session and logind's cleanup" test "$watcher_there" = yes
live_expect "logind closed session $sid" sh -c "! loginctl show-session '$sid' >/dev/null 2>&1"
live_expect "the run is live: sshd -T says banner /etc/issue.net" sh -c '/usr/sbin/sshd -T | grep -qx "banner /etc/issue.net"'
# a login before the deadline (sshd was reloaded with the banner), when the machine's speed leaves time for one
if [ $((deadline_s - $(date +%s))) -gt 15 ]; then
  live_ssh_login; live_expect "before the deadline a new login shows the banner" live_ssh_banner_shown
else
  live_note "(too close to the deadline for a login that shows the banner)"
fi

# the deadline: the watcher rolls back and reloads sshd; bounded wait, judged by sshd's files
limit=$((t_end + DEADLINE + 120))
while [ "$(live_sshd_files)" != "$files0" ] && [ "$(uptime_s)" -lt "$limit" ]; do sleep 2; done
stamp "sshd files restored ($(( $(date +%s) - deadline_s )) s after the deadline)"
live_expect "sshd files byte-identical after the deadline" test "$(live_sshd_files)" = "$files0"
n=0; while alive "${wpid:-0}" && [ $n -lt 60 ]; do sleep 1; n=$((n + 1)); done
stamp "watcher exited"
bw history
live_expect "history says rolled_back" grep -q '"status": "rolled_back"' "$BW_OUT"
live_expect "sshd -T no longer says banner /etc/issue.net" sh -c '! /usr/sbin/sshd -T | grep -qx "banner /etc/issue.net"'
live_ssh_login; live_expect_not "after the deadline a new login shows no banner (sshd reloaded)" live_ssh_banner_shown
live_expect "ssh.service reloaded, not restarted: main pid $pid0 (got $(live_sshd_pid))" test "$(live_sshd_pid)" = "$pid0"
live_expect "no bulwark-deadman unit left behind" sh -c '[ -z "$(systemctl list-units --all --no-legend "bulwark-deadman-*")" ]'
echo "[watcher log]"; cat "$LIVE_STATE"/deadman-run-*.log 2>/dev/null | tail -n 20
live_end
stamp "cleanup"

# leave sshd, logind, PAM and the packages as found for whatever runs next
[ "$(live_sshd_files)" = "$files0" ] || { rm -f /etc/ssh/sshd_config.d/00-bulwark-banner.conf; systemctl reload ssh.service; }
rm -f "$DROPIN"
[ "$dropin_dir_existed" = yes ] || rmdir "$DROPIN_DIR" 2>/dev/null
systemctl restart systemd-logind.service
[ "$(sha256sum /etc/pam.d/common-session)" = "$pam0" ] || echo "[cleanup] WARNING: /etc/pam.d/common-session differs from before"
live_ssh_teardown
