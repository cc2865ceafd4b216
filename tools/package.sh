#!/usr/bin/env bash
# Builds certkeeper's Debian packages (certkeeper, certkeeper-gtk,
# certkeeper-ca, certkeeper-kiosk) into build-deb/ from the committed and tracked files of
# this checkout and packaging/debian/, then checks them: lintian (no error),
# desktop-file-validate and appstreamcli validate on what they install.
# Installs its own build dependencies first (with sudo when not root).
#   tools/package.sh        then: sudo apt-get install ./build-deb/*.deb
set -euo pipefail
cd "$(dirname "$0")/.."

# The tools, then the packages' Build-Depends (read from debian/control).
tools/deps.sh git dpkg-dev debhelper devscripts fakeroot lintian desktop-file-utils appstream
mapfile -t build_deps < <(sed -n '/^Build-Depends:/,/^[A-Z]/p' packaging/debian/control \
  | sed '1s/^Build-Depends://; /^[A-Z]/d' | tr ',' '\n' \
  | sed 's/(.*)//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$')
tools/deps.sh "${build_deps[@]/debhelper-compat/debhelper}"

version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
out=build-deb
src=$out/certkeeper-$version
rm -rf "$out"
mkdir -p "$src"
# Only what git tracks: nothing built, nothing ignored.
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$src"
cp -a packaging/debian "$src/debian"

(cd "$src" && DEB_BUILD_OPTIONS="noautodbgsym ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
  tail -n 40 "$out/build.log" >&2
  echo "package: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
}
rm -rf "$src"
ls "$out"/*.deb

status=0
# lintian: no error (warnings are shown; overrides say why in
# packaging/debian/*.lintian-overrides).
lintian --fail-on error --tag-display-limit 0 "$out"/*.changes || status=1

# What the packages install: the launcher, the autostart entry, the
# metainfo.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
for deb in "$out"/*.deb; do dpkg-deb -x "$deb" "$root"; done
for f in "$root"/usr/share/applications/*.desktop "$root"/etc/xdg/autostart/*.desktop; do
  desktop-file-validate "$f" && echo "package: desktop-file-validate ${f#"$root"}: ok" || status=1
done
for f in "$root"/usr/share/metainfo/*.xml; do
  appstreamcli validate --no-net "$f" && echo "package: appstreamcli validate ${f#"$root"}: ok" || status=1
done
[ "$status" -eq 0 ] && echo "package: the packages are in $out/ (sudo apt-get install ./$out/*.deb)"
exit "$status"
