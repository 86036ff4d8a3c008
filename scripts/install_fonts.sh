#!/bin/sh
# Make sure a Chinese (CJK) font is installed, so lang="zh" figures render real glyphs.
# Installs Debian's fonts-noto-cjk when none is found and we may use apt-get; otherwise says what to do.
if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "==> installing a CJK font (Debian fonts-noto-cjk) for Chinese figure text"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -q fonts-noto-cjk fontconfig >/dev/null 2>&1 || \
   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-noto-cjk fontconfig >/dev/null 2>&1)) && exit 0
fi
echo "WARNING: no CJK font found and none could be installed; install one (e.g. fonts-noto-cjk) to render lang='zh' figures." >&2
exit 0
