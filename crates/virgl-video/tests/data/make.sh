#!/bin/sh
# Regenerates the translation-test clips and their header traces (Debian 12's ffmpeg 5.1,
# libx264, libx265). Each clip is a few KB; the .trace files are ffmpeg's own syntax-element
# dump (bitstream filter trace_headers, with the log prefix removed) and give the tests
# expected values that are independent of virgl-video's parsers.
set -eu
cd "$(dirname "$0")"
src="-f lavfi -i testsrc=size=64x64:rate=25"
trace() {
    ffmpeg -hide_banner -loglevel info -i "$1" -c copy -bsf:v trace_headers -f null - 2>&1 \
        | grep '^\[trace_headers' | sed -e 's/^\[trace_headers @ 0x[0-9a-f]*\] //' -e 's/  */ /g' \
        > "$1.trace"
}
# MPEG-2 main: I B P (GOP of 3, one B frame), one slice per macroblock row.
ffmpeg -hide_banner -loglevel error $src -frames:v 3 -pix_fmt yuv420p -c:v mpeg2video \
    -g 3 -bf 1 -qscale:v 5 -y mpeg2_64x64.m2v
trace mpeg2_64x64.m2v
# JPEG baseline 4:2:0, 64x48 (MCUs of 16x16, a partial MCU row).
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=64x48 -frames:v 1 \
    -pix_fmt yuvj420p -c:v mjpeg -q:v 5 -y jpeg_64x48.jpg
trace jpeg_64x48.jpg
# JPEG baseline 4:2:2 (ffmpeg: luma 2x2, chroma 1x2 sampling), 40x24: partial MCUs.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=40x24 -frames:v 1 \
    -pix_fmt yuvj422p -c:v mjpeg -q:v 5 -y jpeg_40x24_422.jpg
trace jpeg_40x24_422.jpg
# H.264 high, CABAC, I P B with 2 slices per picture.
ffmpeg -hide_banner -loglevel error $src -frames:v 3 -pix_fmt yuv420p -c:v libx264 \
    -profile:v high -bf 1 -g 3 -x264-params slices=2:weightp=2 -bsf:v filter_units=remove_types=6 \
    -y h264_cabac_64x64.264
trace h264_cabac_64x64.264
# H.264 baseline-ish CAVLC, 4 frames (P references an older frame through modification).
ffmpeg -hide_banner -loglevel error $src -frames:v 4 -pix_fmt yuv420p -c:v libx264 \
    -profile:v main -coder 0 -bf 0 -refs 2 -g 4 -x264-params slices=3 -bsf:v filter_units=remove_types=6 \
    -y h264_cavlc_64x64.264
trace h264_cavlc_64x64.264
# HEVC Main10: I P B, 16x16 CTUs, 2 slices per picture.
ffmpeg -hide_banner -loglevel error $src -frames:v 3 -pix_fmt yuv420p10le -c:v libx265 \
    -x265-params log-level=error:bframes=1:keyint=3:ctu=16:min-cu-size=8:slices=2 \
    -bsf:v filter_units=remove_types=39 -y hevc_main10_64x64.265
trace hevc_main10_64x64.265
# HEVC Main: 8 pictures, 3 B frames in a pyramid (B references, 2-entry lists, RPS with
# pictures kept for later), 16x16 CTUs.
ffmpeg -hide_banner -loglevel error $src -frames:v 8 -pix_fmt yuv420p -c:v libx265 \
    -x265-params log-level=error:bframes=3:keyint=8:ctu=16:min-cu-size=8:b-pyramid=1:slices=2 \
    -bsf:v filter_units=remove_types=39 -y hevc_main_64x64_pyramid.265
trace hevc_main_64x64_pyramid.265
