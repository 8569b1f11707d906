#!/usr/bin/env bash
# Build the Lambda layer the render function needs (Renderer=ffmpeg in infra/template.yaml):
# a static arm64 ffmpeg and ffprobe in bin/ and a font for the overlays in fonts/, zipped to
# target/lambda/ffmpeg-layer.zip. Then publish it and pass its ARN as FfmpegLayerArn:
#   aws lambda publish-layer-version --layer-name myloware-ffmpeg \
#     --compatible-architectures arm64 --zip-file fileb://target/lambda/ffmpeg-layer.zip
# The static build is John Van Sickle's (https://johnvansickle.com/ffmpeg/, GPLv3), checked
# against its published MD5. Not run in CI: it downloads ~25 MB from the internet.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

url="${FFMPEG_STATIC_URL:-https://johnvansickle.com/ffmpeg/releases/ffmpeg-release-arm64-static.tar.xz}"
font="${MYLOWARE_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf}"
[ -f "$font" ] || { echo "no font at $font: apt-get install fonts-dejavu-core, or set MYLOWARE_FONT" >&2; exit 1; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
curl -fsSL "$url" -o "$work/ffmpeg.tar.xz"
curl -fsSL "$url.md5" -o "$work/ffmpeg.tar.xz.md5"
(cd "$work" && echo "$(cut -d' ' -f1 ffmpeg.tar.xz.md5)  ffmpeg.tar.xz" | md5sum -c -) >&2
tar -xJf "$work/ffmpeg.tar.xz" -C "$work"
mkdir -p "$work/layer/bin" "$work/layer/fonts"
cp "$work"/ffmpeg-*-static/ffmpeg "$work"/ffmpeg-*-static/ffprobe "$work/layer/bin/"
cp "$font" "$work/layer/fonts/DejaVuSans-Bold.ttf"
mkdir -p target/lambda
out="$PWD/target/lambda/ffmpeg-layer.zip"
rm -f "$out"
(cd "$work/layer" && python3 -c 'import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk("."):
        for f in files:
            p = os.path.join(root, f)
            i = zipfile.ZipInfo.from_file(p, os.path.relpath(p, "."))
            z.writestr(i, open(p, "rb").read())' "$out")
echo "layer: $out ($(stat -c %s "$out") bytes)"
