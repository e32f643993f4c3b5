#!/usr/bin/env bash
# Castra's build for machines without PowerShell (build.ps1 is the same for machines with pwsh).
#   ./build.sh setup   install what the build and the tests need (Debian packages; needs root or sudo)
#   ./build.sh build   build everything (Release) and assemble the PowerShell module in out/Castra
#   ./build.sh test    setup + build + the whole xUnit suite (what CI runs)
#   ./build.sh demo    setup + build + start three VMs and shut them down concurrently with the castra CLI
#   ./build.sh bench [ARGS]   the fleet-shutdown benchmark (docs/performance.md); ARGS go to bench/Castra.Bench
set -euo pipefail
cd "$(dirname "$0")"

CONFIG=${CONFIG:-Release}
# gcc: the fake QEMU test fixture; python3: the help check (scripts/md2maml.py); socat: the benchmark's hand-written
# shell baseline (bench/Castra.Bench/Baselines/shell-loop.sh); the rest: real QEMU and the tiny test guest (tests/fixtures/guest/build.sh).
PACKAGES=(gcc libc6-dev util-linux python3 socat qemu-system-x86 qemu-utils linux-image-amd64 busybox-static cpio qemu-guest-agent xz-utils)
# What the benchmark alone needs (fake QEMU and its reaper are compiled with cc; baseline (a) uses socat).
BENCH_PACKAGES=(gcc libc6-dev socat)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# install_packages NAME…: the Debian packages not installed yet.
install_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "build.sh: installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

require_dotnet() {
  command -v dotnet >/dev/null || { echo "build.sh: the .NET SDK (8 or later) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }
}

setup() {
  install_packages "${PACKAGES[@]}"
  tests/fixtures/guest/build.sh
  require_dotnet
}

build() {
  dotnet build Castra.sln -c "$CONFIG" -v q -nologo
  module
}

# out/Castra: the PowerShell module as build.ps1 -Task Build assembles it (Import-Module ./out/Castra).
module() {
  local out=out/Castra version
  rm -rf "$out"
  dotnet publish src/Castra.PowerShell/Castra.PowerShell.csproj -c "$CONFIG" -o "$out" -v q -nologo >/dev/null
  find "$out" -maxdepth 1 -type f ! -name Castra.dll ! -name Castra.Core.dll ! -name Castra.deps.json -delete
  version=$(sed -n 's|.*<VersionPrefix>\(.*\)</VersionPrefix>.*|\1|p' Directory.Build.props)
  sed "s|ModuleVersion *= *'[^']*'|ModuleVersion        = '$version'|" Castra.psd1 > "$out/Castra.psd1"
  cp Castra.Format.ps1xml "$out/"
  cp -r en-US "$out/"
}

test_all() {
  setup
  build
  # The committed MAML must be what docs/*.md generate, and the docs must match the cmdlets' parameters.
  python3 scripts/md2maml.py --check
  local log; log=$(mktemp)
  set +e
  dotnet test Castra.sln -c "$CONFIG" --no-build -nologo 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  # One closing line in the form CI runners recognise, summed over every test assembly.
  awk '/(Passed|Failed)!  - /{gsub(",","");for(i=1;i<=NF;i++){if($i=="Failed:")f+=$(i+1);if($i=="Passed:")p+=$(i+1);if($i=="Skipped:")s+=$(i+1)}}END{printf "%d passed, %d failed, %d skipped\n",p,f,s}' "$log"
  rm -f "$log"
  return "$rc"
}

demo() {
  setup
  build
  scripts/demo.sh
}

# The benchmark needs no QEMU and no test guest: only its packages and the SDK.
bench() {
  install_packages "${BENCH_PACKAGES[@]}"
  require_dotnet
  dotnet run -c Release --project bench/Castra.Bench -- "$@"
}

case "${1:-}" in
  setup) setup ;;
  build) setup; build ;;
  test) test_all ;;
  demo) demo ;;
  bench) shift; bench "$@" ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
