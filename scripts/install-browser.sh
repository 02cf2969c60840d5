#!/usr/bin/env bash
# Installs Debian's chromium and a Chinese font for the browser tests (tests/browser/), when missing.
# Idempotent: does nothing when both are there. Needs root (or password-less sudo) for apt-get.
set -euo pipefail

FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e "$FONT" ] || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium) and WenQuanYi Micro Hei present; nothing to do"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
  else
    echo "install-browser: missing ${missing[*]} and this is not root; as root run:" >&2
    echo "  apt-get update && apt-get install -y chromium fonts-wqy-microhei" >&2
    echo "install-browser: the browser tests are skipped until /usr/bin/chromium exists" >&2
    exit 0
  fi
fi
echo "install-browser: missing ${missing[*]}; running ${SUDO:+$SUDO }apt-get update && apt-get install -y ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  echo "install-browser: installed; $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium still missing')"
else
  # Not fatal: the browser tests then skip, saying /usr/bin/chromium is missing; everything else still runs.
  echo "install-browser: WARNING: apt-get failed; the browser tests will be skipped" >&2
fi
