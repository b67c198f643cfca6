#!/bin/sh
# Records real Mesa client sessions (virpipe -> vtest_record.py -> virgl-vtest) and writes them
# as seeds: fuzz/seeds/vtest_frame/<name> (the client's byte stream, behind a chunk-size byte),
# fuzz/seeds/command_stream/<name>-NNN and fuzz/seeds/command_exec/<name>-NNN (each SUBMIT_CMD,
# the latter behind a capset-selector byte).
# usage: record_seeds.sh BIN_DIR   (BIN_DIR holds virgl-vtest and gl-scenes)
set -eu
bin=$1
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/virgl-vtest" --socket-path="$work/up.sock" >"$work/server.log" 2>&1 &
server=$!
while [ ! -S "$work/up.sock" ]; do sleep 0.1; done
record() {
    name=$1; shift
    out="$work/$name"
    python3 "$here/tools/vtest_record.py" "$work/rec.sock" "$work/up.sock" "$out" >"$work/rec-$name.log" &
    rec=$!
    while [ ! -S "$work/rec.sock" ]; do sleep 0.1; done
    GALLIUM_DRIVER=virpipe LIBGL_ALWAYS_SOFTWARE=1 VTEST_SOCKET_NAME="$work/rec.sock" \
        XDG_RUNTIME_DIR="$work" timeout 60 "$@" >/dev/null
    wait $rec
    rm -f "$work/rec.sock"
    mkdir -p "$here/seeds/vtest_frame" "$here/seeds/command_stream" "$here/seeds/command_exec"
    { printf '\077'; cat "$out/client.bin"; } >"$here/seeds/vtest_frame/$name"
    for f in "$out"/submit-*.bin; do
        [ -e "$f" ] || continue
        n=$(basename "$f" .bin | sed 's/submit-//')
        cp "$f" "$here/seeds/command_stream/$name-$n"
        { printf '\000'; cat "$f"; } >"$here/seeds/command_exec/$name-$n"
    done
    cat "$work/rec-$name.log"
}
record tiles "$bin/gl-scenes" --scene tiles --width 64 --height 64 --frames 1
record clear "$bin/gl-scenes" --scene clear --width 32 --height 32 --frames 1
if command -v wflinfo >/dev/null; then
    record wflinfo wflinfo -p surfaceless_egl -a gl
fi
