# Package mechanisms on the booted system (see specs/live/packages-booted.spec.yaml).
# live-id: packages-booted/AC-01 a test .deb is removed by package_absent and reinstalled by rollback at the same version
# live-id: packages-booted/AC-02 package_present installs a test .deb from a file: repository; rollback purges it
# Tiny packages built here with dpkg-deb (no download); judged by dpkg-query, never by bulwark.

st() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null; }

# Each package carries a conffile: dpkg keeps a removed package as "config-files" only when it
# has one (without, `dpkg -r` forgets it entirely, as the first booted run showed).
mkdeb() { # NAME VERSION -> $LIVE_TMP/NAME_VERSION_all.deb
  d=$LIVE_TMP/build-$1
  rm -rf "$d"; mkdir -p "$d/DEBIAN" "$d/usr/share/$1" "$d/etc"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Bulwark tests <t@example.org>\nDescription: live test\n' "$1" "$2" > "$d/DEBIAN/control"
  echo "/etc/$1.conf" > "$d/DEBIAN/conffiles"
  echo "# $1 $2" > "$d/etc/$1.conf"
  echo "$1 $2" > "$d/usr/share/$1/README"
  dpkg-deb --root-owner-group -Zgzip --build "$d" "$LIVE_TMP/$1_$2_all.deb" >/dev/null
}

# --- AC-01: package_absent, then rollback reinstalls from the apt cache ---
mkdeb bw-live-demo 1.0-1
dpkg -i "$LIVE_TMP/bw-live-demo_1.0-1_all.deb" >/dev/null
cp "$LIVE_TMP/bw-live-demo_1.0-1_all.deb" /var/cache/apt/archives/
live_begin packages-booted/AC-01
live_expect "installed before (got $(st bw-live-demo))" test "$(st bw-live-demo)" = "install ok installed 1.0-1"
bw remediate --rule live-pkg-absent --rules-dir "$LIVE_FILES/rules"
live_expect "remediate exit 0 (got $BW_RC)" test "$BW_RC" -eq 0
live_expect "removed, config kept (got $(st bw-live-demo))" test "$(st bw-live-demo)" = "deinstall ok config-files 1.0-1"
live_expect "its conffile is still there" test -e /etc/bw-live-demo.conf
run=$(bw_json_num run_id)
bw rollback --run "$run"
live_expect "rollback exit 0 (got $BW_RC)" test "$BW_RC" -eq 0
live_expect "same version back (got $(st bw-live-demo))" test "$(st bw-live-demo)" = "install ok installed 1.0-1"
live_end
dpkg --purge bw-live-demo >/dev/null 2>&1; rm -f /var/cache/apt/archives/bw-live-demo_1.0-1_all.deb

# --- AC-02: package_present from a flat file: repository, then rollback purges ---
mkdeb bw-live-extra 2.0-1
repo=$LIVE_TMP/repo; mkdir -p "$repo"; cp "$LIVE_TMP/bw-live-extra_2.0-1_all.deb" "$repo/"
f=$repo/bw-live-extra_2.0-1_all.deb
{ dpkg-deb -f "$f"; echo "Filename: ./$(basename "$f")"; echo "Size: $(wc -c < "$f")"; echo "SHA256: $(sha256sum "$f" | cut -d' ' -f1)"; echo; } > "$repo/Packages"
echo "deb [trusted=yes] file:$repo ./" > /etc/apt/sources.list.d/bulwark-live.list
apt-get -q update >/dev/null 2>&1
live_begin packages-booted/AC-02
live_expect "not installed before (got $(st bw-live-extra))" test -z "$(st bw-live-extra)"
bw remediate --rule live-pkg-present --rules-dir "$LIVE_FILES/rules"
live_expect "remediate exit 0 (got $BW_RC)" test "$BW_RC" -eq 0
live_expect "installed (got $(st bw-live-extra))" test "$(st bw-live-extra)" = "install ok installed 2.0-1"
run=$(bw_json_num run_id)
bw rollback --run "$run"
live_expect "rollback exit 0 (got $BW_RC)" test "$BW_RC" -eq 0
live_expect "purged (got $(st bw-live-extra))" test -z "$(st bw-live-extra)"
live_expect_not "rollback purged its conffile too" test -e /etc/bw-live-extra.conf
live_end
dpkg --purge bw-live-extra >/dev/null 2>&1
rm -f /etc/apt/sources.list.d/bulwark-live.list; apt-get -q update >/dev/null 2>&1 || true
