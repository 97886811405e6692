# sshd validation and reload against the real sshd under systemd (specs/live/sshd-reload-booted.spec.yaml),
# judged by sshd -T, systemctl and a real ssh login over loopback, never by bulwark.
# live-id: sshd-reload-booted/AC-01 a config sshd -t refuses is rolled back and sshd keeps serving logins; an accepted one is live after reload
# live-lane: sshd
# (the "sshd" lane: fragments that act on sshd run one after the other; their logins add and remove session scopes,
#  which the units lane's checks read as they come and go: host-conformance/AC-19)

live_ssh_setup

live_begin sshd-reload-booted/AC-01
live_expect "ssh.service active before (got $(systemctl is-active ssh.service))" test "$(systemctl is-active ssh.service)" = active
files0=$(live_sshd_files); pid0=$(live_sshd_pid)
live_expect "a login works before anything" live_ssh_login
live_expect_not "no banner before" live_ssh_banner_shown

# refused: sshd -t rejects the drop-in, the transaction rolls back, sshd never sees it
bw remediate --rule live-sshd-refused --rules-dir "$LIVE_FILES/rules"
live_expect "refused remediate exits 2 (got $BW_RC)" test "$BW_RC" -eq 2
live_expect "refused transaction rolled_back" grep -q '"status": "rolled_back"' "$BW_OUT"
live_expect "refused drop-in is gone" test ! -e /etc/ssh/sshd_config.d/00-bulwark-live-refused.conf
live_expect "sshd files byte-identical after the refusal" test "$(live_sshd_files)" = "$files0"
live_expect "sshd still active, same main pid $pid0 (got $(live_sshd_pid))" test "$(live_sshd_pid)" = "$pid0"
live_expect "a new login works after the refusal" live_ssh_login

# accepted: the shipped ssh-banner rule, live after systemctl reload (a new login shows the banner)
bw remediate --rule ssh-banner
live_expect "banner remediate exits 0 (got $BW_RC)" test "$BW_RC" -eq 0
run=$(bw_json_num run_id)
live_expect "sshd -T says banner /etc/issue.net" sh -c '/usr/sbin/sshd -T | grep -qx "banner /etc/issue.net"'
live_ssh_login; live_expect "the new login shows the /etc/issue.net banner" live_ssh_banner_shown
live_expect "reloaded, not restarted: main pid $pid0 (got $(live_sshd_pid))" test "$(live_sshd_pid)" = "$pid0"
bw rollback --run "${run:-0}"
live_expect "rollback exits 0 (got $BW_RC)" test "$BW_RC" -eq 0
live_expect "sshd files byte-identical after rollback" test "$(live_sshd_files)" = "$files0"
live_ssh_login; live_expect_not "after rollback a new login shows no banner" live_ssh_banner_shown
live_end

# leave sshd as found for whatever runs next
rm -f /etc/ssh/sshd_config.d/00-bulwark-live-refused.conf
[ "$(live_sshd_files)" = "$files0" ] || { rm -f /etc/ssh/sshd_config.d/00-bulwark-banner.conf; systemctl reload ssh.service; }
live_ssh_teardown
