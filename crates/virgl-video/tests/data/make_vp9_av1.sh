#!/bin/sh
# Regenerates the VP9 and AV1 translation-test clips and their header traces (Debian 12's
# ffmpeg 5.1 with libvpx and libaom). The .trace files are ffmpeg's own syntax-element dump
# (bitstream filter trace_headers, log prefix removed; see ../common/trace.rs), which gives the tests
# expected values independent of virgl-video. VC-1 has no encoder in Debian: its test builds
# its bitstreams in code (tests/translate_vc1.rs).
set -eu
cd "$(dirname "$0")"
trace() {
    ffmpeg -hide_banner -loglevel info -i "$1" -c copy -bsf:v trace_headers -f null - 2>&1 \
        | grep '^\[trace_headers' | sed -e 's/^\[trace_headers @ 0x[0-9a-f]*\] //' -e 's/  */ /g' \
        > "$1.trace"
}
# VP9 profile 0 (8-bit 4:2:0): key frame + 2 inter frames, cyclic-refresh segmentation
# (aq-mode 3) so inter frames carry segment features; no alt-ref, so no superframes.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=64x64:rate=25 -frames:v 3 \
    -pix_fmt yuv420p -c:v libvpx-vp9 -profile:v 0 -deadline realtime -cpu-used 8 -aq-mode 3 \
    -auto-alt-ref 0 -lag-in-frames 0 -g 3 -b:v 200k -f ivf -y vp9_p0_64x64.ivf
trace vp9_p0_64x64.ivf
# VP9 profile 2 (10-bit 4:2:0): key frame + 2 inter frames.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=64x64:rate=25 -frames:v 3 \
    -pix_fmt yuv420p10le -c:v libvpx-vp9 -profile:v 2 -deadline realtime -cpu-used 8 \
    -auto-alt-ref 0 -lag-in-frames 0 -g 3 -b:v 200k -f ivf -y vp9_p2_10bit_64x64.ivf
trace vp9_p2_10bit_64x64.ivf
# AV1 profile 0, 10-bit 4:2:0, 2x2 tiles (256x128 = 4x2 superblocks), film grain on every
# frame (libaom's film-grain-test table 1): key frame + 2 inter frames, low-overhead OBUs.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=256x128:rate=25 -frames:v 3 \
    -pix_fmt yuv420p10le -c:v libaom-av1 -cpu-used 8 -usage realtime -tile-columns 1 \
    -tile-rows 1 -g 3 -b:v 200k -aom-params film-grain-test=1 -f obu -y av1_p0_10bit_256x128.obu
trace av1_p0_10bit_256x128.obu
# AV1 profile 1 (8-bit 4:4:4), one tile: key frame + 1 inter frame.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=64x64:rate=25 -frames:v 2 \
    -pix_fmt yuv444p -c:v libaom-av1 -cpu-used 8 -usage realtime -g 2 -b:v 200k \
    -f obu -y av1_p1_444_64x64.obu
trace av1_p1_444_64x64.obu
