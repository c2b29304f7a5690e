#!/usr/bin/env bash
# rmm-desktop's screenshots from real X11 windows: the desktop test suites
# (tests/desktop, which save each screen in both themes) and the app itself,
# under xvfb-run with Qt's xcb platform instead of offscreen. ctest runs it
# as desktop.x11. The images go to build/artifacts/desktop-x11/ (the
# suites' NAME-light.png / NAME-dark.png, and app-light.png / app-dark.png:
# the whole X screen, grabbed by the app), beside the offscreen ones.
#   RMM_BUILD_DIR   build directory (default: build)
#   usage: scripts/desktop-screenshots.sh [SUITE...]   (default: every built suite)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RMM_BUILD_DIR:-$root/build}
cd "$build"
command -v xvfb-run >/dev/null || { echo "desktop-screenshots: xvfb-run is missing (scripts/setup.sh installs xvfb)" >&2; exit 1; }
[ -x ./rmm-desktop ] || { echo "desktop-screenshots: build rmm-desktop and the desktop tests first" >&2; exit 1; }

out=$PWD/artifacts/desktop-x11
mkdir -p "$out"
export RMM_DESKTOP_ARTIFACTS=$out  # where the suites save theirs
xvfb=(xvfb-run -a -s "-screen 0 1280x800x24")
export QT_QPA_PLATFORM=xcb

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  for t in tests/desktop/test_desktop_*; do
    [ -f "$t" ] && [ -x "$t" ] && suites+=("$(basename "$t" | sed 's/^test_desktop_//')")
  done
fi
status=0
for s in "${suites[@]}"; do
  echo "== $s (xcb under Xvfb)"
  "${xvfb[@]}" "tests/desktop/test_desktop_$s" -silent || status=1
done

# The app as a user starts it, with a private RMM_HOME holding the shared stories260K.
home=$(mktemp -d) && trap 'rm -rf "$home"' EXIT
mkdir -p "$home/rmm/models" "$home/config"
model="$root/../shared/models/stories260K.gguf"
[ -f "$model" ] && ln -s "$model" "$home/rmm/models/"
for theme in light dark; do
  RMM_HOME="$home/rmm" XDG_CONFIG_HOME="$home/config" \
    "${xvfb[@]}" ./rmm-desktop --theme "$theme" --screenshot "$out/app-$theme.png" || status=1
done
ls -1 "$out"/*.png
exit $status
