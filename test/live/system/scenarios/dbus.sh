# The kernel-io path's D-Bus client against the real systemd, through the
# compiled binary's internal `bulwark __dbus-probe`, judged by systemctl.
# Two throwaway units are created here and removed at the end; cron and ssh
# are only read (ssh's unit-file state only: the sshd lane reloads it). The probe does not take --path: it is the kernel-io client.
# live-id: dbus-booted/AC-01 __dbus-probe on the system bus agrees with systemctl (states, enable/disable, mask/unmask, start/stop, a failing job)
# live-id: dbus-booted/AC-02 __dbus-probe --direct on /run/systemd/private (no bus daemon) agrees with systemctl and starts/stops a unit
# live-paths: kernel-io
# live-lane: units
# (the "units" lane: fragments that act on systemd units or sshd run one after the other)

U=bulwark-dbus-probe.service
F=bulwark-dbus-fail.service
OUT="$LIVE_TMP/probe.out"
# Vendor-style units (not in /etc): masking links /etc/systemd/system/$U to /dev/null, and a
# unit file there would be replaced by the mask (force) and lost on unmask.
D=/usr/local/lib/systemd/system
made=
for d in /usr/local/lib/systemd $D; do [ -d $d ] || { mkdir $d && made="$d $made"; }; done

probe() {
  "$BULWARK" __dbus-probe --job-timeout-ms 60000 "$@" >"$OUT" 2>"$LIVE_TMP/probe.err"
  PROBE_RC=$?
  echo "probe $* -> rc $PROBE_RC: $(cat "$OUT" "$LIVE_TMP/probe.err")"
}
has() { grep -q "$1" "$OUT"; }
enabled() { systemctl is-enabled "$1" 2>/dev/null; }
active() { systemctl is-active "$1" 2>/dev/null; }

cat >$D/$U <<'UNIT'
[Unit]
Description=Bulwark D-Bus probe (harmless)
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
[Install]
WantedBy=multi-user.target
UNIT
cat >$D/$F <<'UNIT'
[Unit]
Description=Bulwark D-Bus probe that fails
[Service]
Type=oneshot
ExecStart=/bin/false
UNIT
systemctl daemon-reload

live_begin dbus-booted/AC-01
# One probe per question for both units (each start of the binary costs seconds under TCG).
probe file-state cron.service ssh.service
for u in cron.service ssh.service; do
  want=$(enabled $u)
  live_expect "file-state $u = $want" has "\"unit\":\"$u\",\"state\":\"$want\""
done
# (ssh.service's active state is not asked: the "sshd" lane reloads it concurrently, "reloading" for a moment)
probe active-state cron.service
for u in cron.service; do
  want=$(active $u)
  live_expect "active-state $u = $want" has "\"unit\":\"$u\",\"state\":\"$want\""
done
probe file-state bulwark-no-such-unit.service
live_expect "a missing unit is an error (exit 1, got $PROBE_RC)" test "$PROBE_RC" -eq 1
live_note "missing unit: $(cat "$LIVE_TMP/probe.err")"
probe file-state $U
live_expect "new unit is disabled" has '"state":"disabled"'
probe --reload enable $U
live_expect "enable: systemctl says enabled (got $(enabled $U))" test "$(enabled $U)" = enabled
probe --reload disable $U
live_expect "disable: systemctl says disabled (got $(enabled $U))" test "$(enabled $U)" = disabled
probe start $U
live_expect "start: exit 0 and job done" test "$PROBE_RC" -eq 0
live_expect "start: result done" has '"result":"done"'
live_expect "start: systemctl says active (got $(active $U))" test "$(active $U)" = active
probe stop $U
live_expect "stop: result done" has '"result":"done"'
live_expect "stop: systemctl says inactive (got $(active $U))" test "$(active $U)" = inactive
probe --reload mask $U
live_expect "mask: systemctl says masked (got $(enabled $U))" test "$(enabled $U)" = masked
probe --reload unmask $U
live_expect "unmask: systemctl says disabled (got $(enabled $U))" test "$(enabled $U)" = disabled
probe start $F
live_expect "failing unit: exit 2 (got $PROBE_RC)" test "$PROBE_RC" -eq 2
live_expect "failing unit: result failed" has '"result":"failed"'
live_expect "failing unit: systemctl says failed (got $(active $F))" test "$(active $F)" = failed
live_end

live_begin dbus-booted/AC-02
want=$(enabled cron.service); probe --direct file-state cron.service
live_expect "direct file-state cron.service = $want" has "\"state\":\"$want\""
probe --direct start $U
live_expect "direct start: result done" has '"result":"done"'
live_expect "direct start: systemctl says active (got $(active $U))" test "$(active $U)" = active
probe --direct stop $U
live_expect "direct stop: result done" has '"result":"done"'
live_expect "direct stop: systemctl says inactive (got $(active $U))" test "$(active $U)" = inactive
live_end

# Leave the system as found, whatever happened above.
systemctl stop $U $F >/dev/null 2>&1
systemctl unmask $U >/dev/null 2>&1
systemctl disable $U >/dev/null 2>&1
systemctl reset-failed $F >/dev/null 2>&1
rm -f $D/$U $D/$F
for d in $made; do rmdir $d 2>/dev/null; done
systemctl daemon-reload
