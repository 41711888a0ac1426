#!/usr/bin/env bash
# Install the Debian packages the project uses (needs root and apt-get): the handwriting fonts the synthetic
# data is rendered from, and Chromium for the web page's browser test. Without the fonts the generator falls
# back to the fonts bundled with matplotlib; without Chromium the browser test is skipped. GNU parallel runs sweeps;
# Tesseract is a peer in the line and page benchmarks.
set -euo pipefail
PACKAGES=(fonts-breip fonts-comic-neue fonts-dancingscript fonts-dkg-handwriting fonts-femkeklaver fonts-havana
  fonts-kaushanscript fonts-klee fonts-kristi fonts-leckerli-one fonts-rufscript fonts-sjfonts
  fonts-tlwg-purisa-ttf fonts-yusei-magic chromium parallel tesseract-ocr)
if dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "System packages not installed (needs root and apt-get): sudo $0 ; using fallback fonts" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
