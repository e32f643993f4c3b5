#!/usr/bin/env bash
# Castra's build on a fresh Debian machine with the .NET SDK; it installs everything else itself, PowerShell included.
#   ./build.sh setup   install what the build and the tests need: Debian packages (root or sudo), the test guest,
#                      pwsh 7.6.9 (.tools/pwsh) and Pester (.tools/modules); once, later runs reuse them
#   ./build.sh build   setup + build everything (Release), assemble the PowerShell module in out/Castra and publish
#                      the native CLI (Native AOT) to out/castra/castra
#   ./build.sh test    setup + build + the help check + the xUnit suites + the Pester suite (what CI runs)
#   ./build.sh shell   setup + build + a pwsh with the module imported from out/Castra
#   ./build.sh demo    setup + build + start three VMs and shut them down concurrently with the castra CLI
#   ./build.sh bench [ARGS]   setup + build + the benchmark (docs/performance.md); ARGS go to bench/Castra.Bench
# The PowerShell steps are build.ps1's (./build.ps1 -Task Docs|Pester|Package|Shell), run by the pinned pwsh.
set -euo pipefail
cd "$(dirname "$0")"

CONFIG=${CONFIG:-Release}
# The PowerShell the build and the tests run in: a dotnet tool in the repository (git-ignored), pinned (7.7 may want .NET 11).
PWSH_VERSION=7.6.9
PWSH=.tools/pwsh/pwsh
# Pester's version lives in tools/Pester.csproj, which downloads it.
PESTER_VERSION=$(sed -n 's|.*<PesterVersion>\(.*\)</PesterVersion>.*|\1|p' tools/Pester.csproj)
# gcc: the fake QEMU test fixture; clang and zlib1g-dev: Native AOT links the castra binary with them; socat: the
# benchmark's hand-written shell baseline (bench/Castra.Bench/Baselines/shell-loop.sh); strace: the benchmark's
# syscall counts; systemd: systemd-analyze verify checks the host-shutdown unit (it runs without systemd as PID 1);
# openssh-server and openssh-client: the SSH hosts on loopback addresses that the tests of PowerShell remoting across
# hosts start (tests/Castra.PowerShell.Tests/Support/Ssh); the rest: real QEMU and the tiny test guest
# (tests/fixtures/guest/build.sh).
PACKAGES=(gcc libc6-dev clang zlib1g-dev util-linux socat strace openssh-server openssh-client qemu-system-x86 qemu-utils linux-image-amd64 busybox-static cpio qemu-guest-agent xz-utils systemd)
# The native CLI, published by build(): the tests, the demo and the benchmark run this file.
CLI=out/castra/castra

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

# pwsh and Pester, installed into .tools/ the first time (a few seconds), reused afterwards.
powershell_tools() {
  if [ ! -x "$PWSH" ] || [ ! -d ".tools/pwsh/.store/powershell/$PWSH_VERSION" ]; then
    rm -rf .tools/pwsh
    echo "build.sh: installing PowerShell $PWSH_VERSION into .tools/pwsh"
    dotnet tool install --tool-path .tools/pwsh PowerShell --version "$PWSH_VERSION" >/dev/null
  fi
  if [ ! -f ".tools/modules/Pester/$PESTER_VERSION/Pester.psd1" ]; then
    echo "build.sh: installing Pester $PESTER_VERSION into .tools/modules"
    dotnet msbuild tools/Pester.csproj -restore -t:InstallPester -v:q -nologo
  fi
}

# Runs build.ps1 in the pinned pwsh.
pwsh_build() {
  "$PWSH" -NoProfile -NonInteractive -File build.ps1 "$@"
}

setup() {
  install_packages "${PACKAGES[@]}"
  tests/fixtures/guest/build.sh
  require_dotnet
  powershell_tools
}

build() {
  dotnet build Castra.sln -c "$CONFIG" -v q -nologo
  module
  cli
}

# out/castra/castra: the CLI compiled ahead of time (Native AOT) for this machine's architecture. It starts in a
# few milliseconds instead of ~200 (docs/performance.md) and needs no .NET runtime. Its symbols stay beside it in
# castra.dbg (gdb and perf find them); trim or AOT warnings are build errors (TreatWarningsAsErrors).
cli() {
  local out=${CLI%/*} rid
  case "$(uname -m)" in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) echo "build.sh: no Native AOT runtime identifier for $(uname -m)" >&2; exit 1 ;;
  esac
  rm -rf "$out"
  dotnet publish src/Castra.Cli/Castra.Cli.csproj -c "$CONFIG" -r "$rid" -o "$out" -v q -nologo
  rm -f "$out"/*.pdb
  [ -x "$CLI" ] || { echo "build.sh: the native CLI $CLI was not produced" >&2; exit 1; }
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
  # The committed help (en-US/) must be what docs/*.md generate; whether the docs match the cmdlets is a test.
  pwsh_build -Task Docs -Check
  local log; log=$(mktemp)
  set +e
  dotnet test Castra.sln -c "$CONFIG" --no-build -nologo 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # The Pester suite in the pinned pwsh: build.ps1 -Task Pester runs Invoke-Pester over tests/pester.
  pwsh_build -Task Pester -NoBuild 2>&1 | tee -a "$log"
  local pester_rc=${PIPESTATUS[0]}
  set -e
  # One closing line in the form CI runners recognise, summed over every test assembly and the Pester suite.
  awk '/(Passed|Failed)!  - /{gsub(",","");for(i=1;i<=NF;i++){if($i=="Failed:")f+=$(i+1);if($i=="Passed:")p+=$(i+1);if($i=="Skipped:")s+=$(i+1)}}
       match($0,/Pester: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped/){split(substr($0,RSTART,RLENGTH),n,/[ ,]+/);p+=n[2];f+=n[4];s+=n[6]}
       END{printf "%d passed, %d failed, %d skipped\n",p,f,s}' "$log"
  rm -f "$log"
  [ "$rc" -eq 0 ] && [ "$pester_rc" -eq 0 ]
}

shell() {
  setup
  build
  exec "$PWSH" -NoExit -Command "Import-Module ./out/Castra"
}

demo() {
  setup
  build
  scripts/demo.sh
}

# The benchmark measures what users run: the native CLI, the module in pwsh, and real tiny guests next to the fakes.
bench() {
  setup
  build
  dotnet run -c "$CONFIG" --no-build --project bench/Castra.Bench -- "$@"
}

case "${1:-}" in
  setup) setup ;;
  build) setup; build ;;
  test) test_all ;;
  shell) shell ;;
  demo) demo ;;
  bench) shift; bench "$@" ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
