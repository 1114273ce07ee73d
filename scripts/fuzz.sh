#!/usr/bin/env bash
# Fuzzes the parsers that read outside bytes, with libFuzzer (Linux, `swiftc -sanitize=fuzzer`):
#
#   scripts/fuzz.sh [--runs N | --short] [--asan] [target...]
#
# Targets (Fuzz/<target>/main.swift; seeds in Fuzz/corpus/<target>/):
#   publish         POST /publish bodies: PublicationCodec.decodeBatch, untrusted
#   amqp            RabbitMQ bodies: PublicationCodec.decodeBatch trusted and not, Kick.decode
#   stream-request  GET /events heads: StreamRequest, TokenSource, LogRedaction, CORS
#   resume-token    Last-Event-ID: ResumeToken(text:)
#   jwt             tokens: Authenticator.verify with an HS256 secret (header and claims too)
#   presence        GET /presence/... URIs: PresenceQuery, and PresenceRoutes' answer from a registry
#   send-body       POST /send bodies as they stream: JSONStreamValidator, the same verdict however cut
#   jwks            what --jwks-url serves: Authenticator.loadJWKS, lenient as for a fetched set
#
# Each target runs for N executions (default 1,000,000; --short or FUZZ_RUNS=20000 for CI), one at a
# time, and a table says how each went. A crash leaves its input in .build-fuzz/artifacts/<target>/
# and makes the script exit 1; replay it with `.build-fuzz/fuzzer/fuzzers/<target> <file>`.
#
# SSEFanout's dependencies come from the normal debug build (.build, which `swift build` makes and
# CI has already made): the script runs `swift build --target SSEFanout`, a no-op when it is up to
# date. SSEFanout itself is compiled again, optimized, with coverage instrumentation and
# `-enable-testing`, into .build-fuzz (with --asan also with AddressSanitizer, apart), and each target
# is linked against it with `@testable import SSEFanout`: nothing of this enters the normal build.
# Inputs the fuzzer finds interesting are kept in .build-fuzz/corpus/<target>/ (not checked in), so
# later runs start from where earlier ones ended.
#
# Environment: FUZZ_RUNS (executions per target), FUZZ_TIMEOUT (seconds per input, default 10),
# FUZZ_FLAGS (extra libFuzzer flags), FUZZ_NICE (default 19: other builds go first).
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(publish amqp stream-request resume-token jwt presence send-body jwks)
# Longest input per target: the limit the node itself puts on that input.
declare -A max_len=(
  [publish]=65536          # http.maxBodySize
  [amqp]=65536             # a producer's message: http.maxBodySize (nodes' own and kicks: no limit)
  [stream-request]=16384   # http.maxHeaderSize: a head field, and all of them together
  [resume-token]=16384     # a Last-Event-ID header, at most http.maxHeaderSize
  [jwt]=8192               # Authenticator.maxTokenSize
  [presence]=16384         # http.maxHeaderSize: the request line's URI counts against it
  [send-body]=65537        # a send's body, at most http.maxBodySize, after one byte that says where to cut it
  [jwks]=1048576           # JWKSSource's fetch bound, 1 MiB
)

runs=${FUZZ_RUNS:-1000000}
sanitizer=fuzzer
targets=()
while (($#)); do
  case $1 in
    --runs) runs=$2; shift ;;
    --runs=*) runs=${1#--runs=} ;;
    --short) runs=${FUZZ_RUNS:-20000} ;;
    --asan) sanitizer=fuzzer,address ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *) [[ -n ${max_len[$1]:-} ]] || { echo "unknown target: $1 (targets: ${all_targets[*]})" >&2; exit 2; }
       targets+=("$1") ;;
  esac
  shift
done
((${#targets[@]})) || targets=("${all_targets[@]}")
nice_cmd=(nice -n "${FUZZ_NICE:-19}")
scratch=.build-fuzz
out=$scratch/${sanitizer/,/-}
mkdir -p "$out/module" "$scratch/logs"

# 1. The normal debug build of SSEFanout and its dependencies.
echo "building SSEFanout's dependencies (.build, debug)"
if ! "${nice_cmd[@]}" swift build --target SSEFanout >"$scratch/logs/build.log" 2>&1; then
  grep -E "error:" "$scratch/logs/build.log" >&2 || tail -20 "$scratch/logs/build.log" >&2
  exit 1
fi

# 2. From SwiftPM's build description: SSEFanout's sources and the flags it was compiled with (clang
#    module maps, package name), and the objects of every target it depends on. Files are only
#    rewritten when they change, so that the steps below can tell whether anything is new.
python3 - .build/debug "$out" <<'EOF2'
import glob, json, os, sys
build, out = sys.argv[1], sys.argv[2]
description = json.load(open(os.path.join(build, "description.json")))
command = next(c for c in description["swiftCommands"].values() if c.get("moduleName") == "SSEFanout")
args, flags = command["otherArguments"], []
for i, arg in enumerate(args[:-1]):
    if arg == "-Xcc" and (args[i + 1].startswith("-fmodule-map-file=") or args[i + 1] == "-I" or args[i - 1] == "-I"):
        flags += ["-Xcc", args[i + 1]]
    elif arg == "-package-name":
        flags += [arg, args[i + 1]]
objects = []
for target in description["targetDependencyMap"]["SSEFanout"]:
    objects += sorted(glob.glob(os.path.join(build, target + ".build", "**", "*.o"), recursive=True))
# Quoted: some paths hold spaces.
def lines(items): return "".join('"%s"\n' % i.replace("\\", "\\\\").replace('"', '\\"') for i in items)
for name, text in [("flags", lines(["-I", command["importPath"]] + flags)), ("sources", lines(command["sources"])),
                   ("objects", lines(objects))]:
    path = os.path.join(out, name)
    if not os.path.exists(path) or open(path).read() != text:
        open(path, "w").write(text)
EOF2

# 3. SSEFanout, instrumented, when a source, a dependency or a flag changed. Its module directory
#    comes first on the import path, before the normal build's SSEFanout.
newer() { [[ ! -e $1 ]] || [[ -n $(find "${@:2}" -newer "$1" -print -quit) ]]; }
mapfile -t sources < <(sed 's/^"//; s/"$//' "$out/sources")
if newer "$out/SSEFanout.o" "${sources[@]}" "$out/flags" "$out/objects" .build/debug/Modules/*.swiftmodule; then
  echo "compiling SSEFanout (-sanitize=$sanitizer)"
  rm -f "$out/SSEFanout.o"
  "${nice_cmd[@]}" swiftc -module-name SSEFanout -parse-as-library -swift-version 6 -O -wmo -enable-testing \
    -sanitize="$sanitizer" -emit-module -emit-module-path "$out/module/SSEFanout.swiftmodule" -c -o "$out/SSEFanout.o" \
    -module-cache-path "$out/module-cache" @"$out/flags" @"$out/sources" >"$scratch/logs/SSEFanout.log" 2>&1 \
    || { grep -E "error:" "$scratch/logs/SSEFanout.log" >&2; exit 1; }
fi

# 4. One executable per target.
mkdir -p "$out/fuzzers"
for target in "${targets[@]}"; do
  binary=$out/fuzzers/$target
  harness=(Fuzz/Support.swift "Fuzz/$target/main.swift")
  if newer "$binary" "${harness[@]}" "$out/SSEFanout.o"; then
    echo "compiling $target"
    "${nice_cmd[@]}" swiftc -O -parse-as-library -swift-version 6 -sanitize="$sanitizer" -module-name "fuzz_${target//-/_}" \
      -I "$out/module" -module-cache-path "$out/module-cache" @"$out/flags" "${harness[@]}" "$out/SSEFanout.o" @"$out/objects" \
      -lstdc++ -o "$binary" 2>&1 | { grep -v -e "Cannot export local symbol" -e "^$" >&2 || true; }
    [[ -x $binary ]] || exit 1
  fi
done

# 5. Run each target in turn.
results=()
failed=0
for target in "${targets[@]}"; do
  corpus=$scratch/corpus/$target
  artifacts=$scratch/artifacts/$target
  log=$scratch/logs/$target.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  dict=()
  [[ -f Fuzz/dict/$target.dict ]] && dict=(-dict="Fuzz/dict/$target.dict")
  echo "fuzzing $target: $runs executions, inputs up to ${max_len[$target]} bytes"
  started=$(date +%s)
  set +e
  # New inputs go to the first directory (the local corpus); the checked-in seeds are only read.
  # Swift's own crash handler would take the signal before libFuzzer could save the input.
  # shellcheck disable=SC2086
  SWIFT_BACKTRACE=enable=no "${nice_cmd[@]}" "$out/fuzzers/$target" "$corpus" "Fuzz/corpus/$target" "${dict[@]}" \
    -runs="$runs" -max_len="${max_len[$target]}" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=4096 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1
  status=$?
  set -e
  seconds=$(($(date +%s) - started))
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [[ -n $executed ]] || executed=$(sed -n 's/.*#\([0-9]*\).*/\1/p' "$log" | tail -1)
  if ((status == 0)); then
    result=ok
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    kind=crash
    grep -q "ERROR: libFuzzer: timeout" "$log" && kind=timeout
    grep -q "ERROR: libFuzzer: out-of-memory" "$log" && kind=out-of-memory
    result="$kind: ${artifact:-see $log}"
    { grep -E "Fatal error|ERROR: libFuzzer|SUMMARY" "$log" || true; } | head -3 | sed "s/^/  $target: /" >&2
  fi
  results+=("$(printf '%-15s %12s %8ss  %s' "$target" "${executed:-?}" "$seconds" "$result")")
done

echo
printf '%-15s %12s %9s  %s\n' target executions time result
printf '%s\n' "${results[@]}"
exit $failed
