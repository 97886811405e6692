# Services on the booted Debian 12 system (issue 16): service_masked on a running, harmless unit.
# live-id: services-booted/AC-01 masking a running unit stops it; rollback unmasks it and starts it again
# live-lane: units
# (the "units" lane: fragments that act on systemd units or sshd run one after the other)
U=cron.service
before=$(live_unit_state $U)
live_begin services-booted/AC-01
live_note "before: $before"
live_expect "cron running and enabled before (got $before)" test "$before" = enabled/active
bw remediate --rule live-mask-cron --rules-dir "$LIVE_FILES/rules"
live_expect "remediate exit 0 (got $BW_RC)" test "$BW_RC" -eq 0
live_expect "masked+inactive after remediate (got $(live_unit_state $U))" test "$(live_unit_state $U)" = masked/inactive
live_expect "/etc/systemd/system/$U is a link to /dev/null" test "$(readlink /etc/systemd/system/$U)" = /dev/null
run=$(bw_json_num run_id)
live_expect "remediate reported a run id" test -n "$run"
bw rollback --run "$run"
live_expect "rollback exit 0 (got $BW_RC)" test "$BW_RC" -eq 0
live_expect "state restored to $before (got $(live_unit_state $U))" test "$(live_unit_state $U)" = "$before"
live_expect_not "no mask left" test -L /etc/systemd/system/$U
live_end
# Whatever happened, leave cron as the next fragment and path expect it.
[ -L /etc/systemd/system/$U ] && [ "$(readlink /etc/systemd/system/$U)" = /dev/null ] && systemctl unmask $U >/dev/null 2>&1
systemctl start $U >/dev/null 2>&1
