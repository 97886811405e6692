# sshd validation and reload against the real sshd under systemd (specs/live/sshd-reload-booted.spec.yaml),
# judged by sshd -T, systemctl and a real ssh login over loopback, never by bulwark.
# live-id: sshd-reload-booted/AC-01 a config sshd -t refuses is rolled back and sshd keeps serving logins; an accepted one is live after reload
# live-lane: sshd
# (the "sshd" lane: fragments that act on sshd run one after the other; their logins add and remove session scopes,
#  which the units lane's checks read as they come and go: host-conformance/AC-19)

AK=/root/.ssh/authorized_keys
ISSUE=$(head -n 1 /etc/issue.net)
mkdir -p /root/.ssh && chmod 700 /root/.ssh
[ -e "$AK" ] && cp -p "$AK" "$LIVE_TMP/ak.bak"
ssh-keygen -q -t ed25519 -N '' -f "$LIVE_TMP/id"
cat "$LIVE_TMP/id.pub" >>"$AK" && chmod 600 "$AK"

# login: a NEW ssh session as root over loopback; its stderr (with any banner) in $LIVE_TMP/login.err
login() {
  timeout 90 ssh -i "$LIVE_TMP/id" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=60 root@127.0.0.1 echo logged-in \
    >"$LIVE_TMP/login.out" 2>"$LIVE_TMP/login.err"
  _rc=$?
  echo "[ssh] rc=$_rc out=$(cat "$LIVE_TMP/login.out") err=$(tr '\n' ' ' <"$LIVE_TMP/login.err")"
  [ $_rc -eq 0 ] && grep -qx logged-in "$LIVE_TMP/login.out"
}
banner_shown() { grep -qF "$ISSUE" "$LIVE_TMP/login.err"; }
sshd_files() { sha256sum /etc/ssh/sshd_config /etc/ssh/sshd_config.d/* 2>/dev/null | sort; }
main_pid() { systemctl show -p MainPID --value ssh.service; }

live_begin sshd-reload-booted/AC-01
live_expect "ssh.service active before (got $(systemctl is-active ssh.service))" test "$(systemctl is-active ssh.service)" = active
files0=$(sshd_files); pid0=$(main_pid)
live_expect "a login works before anything" login
live_expect_not "no banner before" banner_shown

# refused: sshd -t rejects the drop-in, the transaction rolls back, sshd never sees it
bw remediate --rule live-sshd-refused --rules-dir "$LIVE_FILES/rules"
live_expect "refused remediate exits 2 (got $BW_RC)" test "$BW_RC" -eq 2
live_expect "refused transaction rolled_back" grep -q '"status": "rolled_back"' "$BW_OUT"
live_expect "refused drop-in is gone" test ! -e /etc/ssh/sshd_config.d/00-bulwark-live-refused.conf
live_expect "sshd files byte-identical after the refusal" test "$(sshd_files)" = "$files0"
live_expect "sshd still active, same main pid $pid0 (got $(main_pid))" test "$(main_pid)" = "$pid0"
live_expect "a new login works after the refusal" login

# accepted: the shipped ssh-banner rule, live after systemctl reload (a new login shows the banner)
bw remediate --rule ssh-banner
live_expect "banner remediate exits 0 (got $BW_RC)" test "$BW_RC" -eq 0
run=$(bw_json_num run_id)
live_expect "sshd -T says banner /etc/issue.net" sh -c '/usr/sbin/sshd -T | grep -qx "banner /etc/issue.net"'
login; live_expect "the new login shows the /etc/issue.net banner" banner_shown
live_expect "reloaded, not restarted: main pid $pid0 (got $(main_pid))" test "$(main_pid)" = "$pid0"
bw rollback --run "${run:-0}"
live_expect "rollback exits 0 (got $BW_RC)" test "$BW_RC" -eq 0
live_expect "sshd files byte-identical after rollback" test "$(sshd_files)" = "$files0"
login; live_expect_not "after rollback a new login shows no banner" banner_shown
live_end

# leave sshd as found for whatever runs next
rm -f /etc/ssh/sshd_config.d/00-bulwark-live-refused.conf
[ "$(sshd_files)" = "$files0" ] || { rm -f /etc/ssh/sshd_config.d/00-bulwark-banner.conf; systemctl reload ssh.service; }
if [ -e "$LIVE_TMP/ak.bak" ]; then cp -p "$LIVE_TMP/ak.bak" "$AK"; else rm -f "$AK"; fi
