#!/usr/bin/env bash
# Runs the QnnLab.Nano interop on a real nanoCLR: nf-interpreter's posix host build (targets/posix), with the
# repo's natives, port, device core and protocol engine compiled in, loading mscorlib.pe, QnnLab.Nano.pe and a
# check app (QnnNanoCheck/) that calls every QnnDevice method. Passes when the app's logits equal the host
# engine's and its protocol answer decodes, and when the same build with a stale checksum is refused.
#
#   tools/nanoframework/posix-check/check.sh <golden-dir> [work-dir]   (default work-dir: /tmp/qnn-nano-posix)
#
# golden-dir holds model.qnnb, inputs.bin, expected.bin (e.g. build/tests/golden/cifar_resnet_int8-20, written by
# QnnLab.Firmware.Tests). Sources: existing checkouts in $NF_INTERPRETER_DIR, $MDP_DIR, $MUSTACHE_DIR, or clones
# at the commits build-nanoclr.sh pins (needs GitHub). Needs cmake, ninja, g++, python3, the .NET SDK.
# The harness exits 0 even when an assembly is refused: this script judges by its output.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
golden="$(cd "$1" && pwd)"
work="$(mkdir -p "${2:-/tmp/qnn-nano-posix}" && cd "${2:-/tmp/qnn-nano-posix}" && pwd)"
pin() { grep -o "^$1=\${$1:-[0-9a-f]*}" "$root/tools/nanoframework/build-nanoclr.sh" | sed 's/.*:-\([0-9a-f]*\)}/\1/'; }
checkout() { # var repo ref dir
  local dir="${!1:-}"
  if [ -z "$dir" ]; then
    dir="$work/src/$4"
    [ -d "$dir/.git" ] || git clone --filter=blob:none "$2" "$dir"
    git -C "$dir" checkout --detach "$3"
  fi
  echo "$dir"
}
nf=$(checkout NF_INTERPRETER_DIR https://github.com/nanoframework/nf-interpreter.git "$(pin NF_INTERPRETER_REF)" nf-interpreter)
mdp_src=$(checkout MDP_DIR https://github.com/nanoframework/metadata-processor.git "$(pin MDP_REF)" metadata-processor)
mustache=$(checkout MUSTACHE_DIR https://github.com/jehugaleahsa/mustache-sharp.git "$(pin MUSTACHE_REF)" mustache-sharp)
echo "sources: nf-interpreter $(git -C "$nf" rev-parse --short HEAD), metadata-processor $(git -C "$mdp_src" rev-parse --short HEAD), mustache-sharp $(git -C "$mustache" rev-parse --short HEAD)"

echo "== managed: QnnLab.Nano, the MetadataProcessor, the check app"
dotnet build "$root/firmware/nanoframework/QnnLab.Nano" -c Debug -v q
lib="$root/firmware/nanoframework/QnnLab.Nano/bin/Debug/netstandard2.0"
"$root/tools/nanoframework/build-mdp.sh" "$mdp_src" "$mustache" "$work/mdp" > "$work/mdp-build.log"
mdp=(dotnet "$work/mdp/nanoFramework.Tools.MetadataProcessor.CLI.dll")
corlib="$HOME/.nuget/packages/nanoframework.corelibrary/1.17.11/lib"
pe="$work/pe"
mkdir -p "$pe" "$work/stubs" "$work/app"
cp "$corlib/mscorlib.pe" "$pe/"
"${mdp[@]}" -loadHints mscorlib "$corlib/mscorlib.dll" -parse "$lib/QnnLab.Nano.dll" \
  -compile "$pe/QnnLab.Nano.pe" false -generateSkeleton "$work/stubs" QnnLab.Nano QnnLab.Nano false > "$work/mdp.log"
grep "Native declaration checksum" "$work/mdp.log"
if ! diff -B <(grep -v '^//' "$root/firmware/nanoframework/interop/QnnLab_Nano.cpp") <(grep -v '^//' "$work/stubs/QnnLab_Nano.cpp"); then
  echo "FAIL: the committed QnnLab_Nano.cpp differs from the MetadataProcessor's (regenerate it)"; exit 1
fi
cp "$here/QnnNanoCheck/Program.cs" "$work/app/"
sed "s|@QNN_NANO_DLL@|$lib/QnnLab.Nano.dll|" "$here/QnnNanoCheck/QnnNanoCheck.csproj.in" > "$work/app/QnnNanoCheck.csproj"
python3 "$here/make_data.py" "$golden/model.qnnb" "$golden/inputs.bin" "$golden/expected.bin" 3 "$work/app/Data.cs"
dotnet build "$work/app" -c Debug -v q
"${mdp[@]}" -loadHints mscorlib "$corlib/mscorlib.dll" -loadHints QnnLab.Nano "$lib/QnnLab.Nano.dll" \
  -parse "$work/app/bin/Debug/netstandard2.0/QnnNanoCheck.dll" -compile "$pe/QnnNanoCheck.pe" false > /dev/null

echo "== native: the posix nanoCLR with the QnnLab.Nano interop"
interop="$work/interop"
mkdir -p "$interop"
cp "$root"/firmware/nanoframework/interop/{QnnLab_Nano.h,QnnLab_Nano.cpp,QnnLab_Nano_QnnLab_Nano_QnnDevice.cpp,qnn_nano_port.h,qnn_nano_port.c} "$interop/"
cp "$here/qnn_nano_posix_board.c" "$interop/"
tree="$work/nf-interpreter"
if [ ! -d "$tree" ]; then
  git clone -q "$nf" "$tree" && git -C "$tree" checkout -q --detach "$(git -C "$nf" rev-parse HEAD)"
  # The posix target lists its interop assemblies in posix_stubs.cpp (it has no NF_INTEROP_ASSEMBLIES).
  python3 - "$tree/targets/posix/nanoCLR/posix_stubs.cpp" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('extern const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_System_IO_Ports;\n',
              'extern const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_System_IO_Ports;\n'
              'extern const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_QnnLab_Nano;\n', 1)
s = s.replace('    &g_CLR_AssemblyNative_System_IO_Ports,\n', '    &g_CLR_AssemblyNative_System_IO_Ports,\n    &g_CLR_AssemblyNative_QnnLab_Nano,\n', 1)
assert s.count('QnnLab_Nano') == 2, 'posix_stubs.cpp changed upstream: register the assembly by hand'
open(p, 'w').write(s)
PY
  echo "include($here/interop.cmake)" >> "$tree/targets/posix/nanoCLR/CMakeLists.txt"
fi
cmake -S "$tree/targets/posix" -B "$work/build" -G Ninja -DQNN_FW="$root/firmware" -DQNN_INTEROP="$interop" > "$work/cmake.log"
cmake --build "$work/build" > "$work/build.log"
run() { QNN_NANO_MODEL_FILE="$golden/model.qnnb" "$work/build/bin/nanoFramework.nanoCLR.test" "$pe/mscorlib.pe" "$pe/QnnLab.Nano.pe" "$pe/QnnNanoCheck.pe" 2>&1; }

echo "== run"
run > "$work/run.log" || true
grep -E "QNNCHECK|qnn posix board|Invalid native checksum" "$work/run.log" || true
grep -q "EQUAL to the host engine" "$work/run.log" && grep -q "QNNCHECK done" "$work/run.log" || { echo "FAIL: see $work/run.log"; exit 1; }
answer=$(grep -o 'answer [0-9a-f]*' "$work/run.log" | cut -d' ' -f2)
python3 - "$answer" <<'PY'
import struct, sys, zlib
def uncobs(d):
    out, i = bytearray(), 0
    while i < len(d):
        c = d[i]; out += d[i + 1:i + c]; i += c
        if c < 255 and i < len(d): out.append(0)
    return bytes(out)
frames = [uncobs(f) for f in bytes.fromhex(sys.argv[1]).split(b'\0') if f]
assert len(frames) == 1, frames
r = frames[0]
_, typ, _, status, seq, n = struct.unpack_from('<BBBBHH', r)
assert zlib.crc32(r[:-4]) == struct.unpack_from('<I', r, len(r) - 4)[0], 'bad CRC'
assert (typ, status, seq, n) == (0x82, 0, 1, len(r) - 12), (typ, status, seq, n)
print(f'protocol: INFO answer decoded (seq 1, status OK, {n}-byte payload, CRC good)')
PY

echo "== the same image with a stale checksum must be refused"
sed -i 's/^\(    \)0x[0-9A-F]\{8\},$/\10x00000000,/' "$interop/QnnLab_Nano.cpp"
cmake --build "$work/build" > "$work/build-stale.log"
run > "$work/run-stale.log" || true
cp "$root/firmware/nanoframework/interop/QnnLab_Nano.cpp" "$interop/"
cmake --build "$work/build" > /dev/null
grep "Invalid native checksum" "$work/run-stale.log" || { echo "FAIL: a stale checksum was accepted (see $work/run-stale.log)"; exit 1; }
echo "PASS"
