# mount_option_set on the booted system: the running /dev/shm is remounted with
# nodev,nosuid,noexec by the shipped rules, and rolled back to its captured flags
# and fstab bytes. Judged by findmnt and sha256sum, never by bulwark.
#
# live-id: mounts-booted/AC-01 /dev/shm gets nodev,nosuid,noexec live and in fstab; rollback restores its flags and fstab bytes

FSTAB=/etc/fstab
# The mount on top at /dev/shm (the last line if ever stacked).
opts() { findmnt -n -o VFS-OPTIONS --mountpoint /dev/shm 2>/dev/null | tail -n 1; }
has() { case ",$1," in *",$2,"*) return 0 ;; esac; return 1; }

before_opts=$(opts)
before_sum=$( [ -e $FSTAB ] && sha256sum $FSTAB | cut -d' ' -f1 || echo absent)
cp -p $FSTAB "$LIVE_TMP/fstab.orig" 2>/dev/null
echo "mounts: /dev/shm before: $before_opts; fstab $before_sum"

live_begin mounts-booted/AC-01
live_expect "/dev/shm is mounted (findmnt)" test -n "$before_opts"
bw remediate --rule mount-dev-shm-nodev --rule mount-dev-shm-nosuid --rule mount-dev-shm-noexec
live_expect "remediate exit 0 (got $BW_RC)" test "$BW_RC" -eq 0
run=$(bw_json_num run_id)
now=$(opts)
for o in nodev nosuid noexec; do
  live_expect "/dev/shm runs with $o after remediate (findmnt: $now)" has "$now" $o
done
shm=$(findmnt -s -n -o OPTIONS --tab-file $FSTAB --mountpoint /dev/shm 2>/dev/null | head -n 1)
for o in nodev nosuid noexec; do
  live_expect "fstab mounts /dev/shm with $o (findmnt -s: $shm)" has "$shm" $o
done
live_expect "findmnt --verify accepts fstab" findmnt --verify --tab-file $FSTAB
live_note "remediated: $now; fstab: $shm"
if [ -n "$run" ]; then bw rollback --run "$run"; else BW_RC=99; fi
live_expect "rollback exit 0 (got $BW_RC)" test "$BW_RC" -eq 0
after_opts=$(opts)
after_sum=$( [ -e $FSTAB ] && sha256sum $FSTAB | cut -d' ' -f1 || echo absent)
live_expect "/dev/shm options back to '$before_opts' (got '$after_opts')" test "$after_opts" = "$before_opts"
live_expect "fstab bytes back ($before_sum, got $after_sum)" test "$after_sum" = "$before_sum"
live_end

# Leave the system as found whatever happened: fstab bytes, then the mount's flags.
if [ "$(sha256sum $FSTAB 2>/dev/null | cut -d' ' -f1)" != "$before_sum" ] && [ -e "$LIVE_TMP/fstab.orig" ]; then cp -p "$LIVE_TMP/fstab.orig" $FSTAB; fi
if [ "$(opts)" != "$before_opts" ]; then
  w=""
  for o in nodev nosuid noexec; do if has "$before_opts" $o; then w="$w,$o"; else w="$w,${o#no}"; fi; done
  mount -o "remount,bind$w" /dev/shm
fi
