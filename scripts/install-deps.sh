#!/usr/bin/env bash
# Installs the Debian packages sse-fanout builds and tests against, when they are missing.
set -euo pipefail

packages=(redis-server rabbitmq-server librabbitmq-dev libhiredis-dev amqp-tools curl)
[[ ${WITH_NGINX:-0} == 1 ]] && packages+=(nginx)
[[ ${WITH_COMPOSE:-0} == 1 ]] && packages+=(docker-compose)
# The browser tests (scripts/browser-tests.sh): headless Chromium, its WebDriver, and a venv for selenium.
[[ ${WITH_BROWSER:-0} == 1 ]] && packages+=(chromium chromium-driver python3-venv)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "installing: ${missing[*]}"
sudo=""
[[ $(id -u) == 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# The packages' own init scripts must not start system-wide servers: ours run on their own ports.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
