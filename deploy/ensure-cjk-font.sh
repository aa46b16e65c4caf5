#!/usr/bin/env bash
# Make sure a TrueType CJK font is installed: certificates and summary tables embed a subset of it.
# Installs Debian's fonts-wqy-microhei when no known font is present and apt-get can be used.
set -euo pipefail

known_fonts=(
  /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
  /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
)
if [[ -n "${TALENT_CJK_FONT:-}" && -f "$TALENT_CJK_FONT" ]]; then
  exit 0
fi
for font in "${known_fonts[@]}"; do
  [[ -f "$font" ]] && exit 0
done

if command -v apt-get >/dev/null && [[ $(id -u) -eq 0 ]]; then
  echo "installing the CJK font package fonts-wqy-microhei" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null
  exit 0
fi
echo "no CJK font found: install fonts-wqy-microhei (Debian/Ubuntu) or set TALENT_CJK_FONT to a TrueType CJK font" >&2
exit 1
