#!/usr/bin/env bash
# Builds the QNN nanoCLR image for the NUCLEO-L552ZE-Q (target QNN_NUCLEO144_L552ZE) on a Linux machine
# WITH INTERNET ACCESS. It has not been run on the project's CI machine, which cannot reach GitHub.
#
#   tools/nanoframework/build-nanoclr.sh [work-dir]      (default: ./build/nanoframework)
#
# Needs: git, cmake >= 3.21, ninja, arm-none-eabi-gcc 12+, python3, the .NET SDK (for the
# MetadataProcessor and the managed build). Output: <work-dir>/out/nanoCLR.bin, nanoBooter.bin,
# the .pe files, and QnnLab_Nano.cpp as generated (with the real native checksum).
set -euo pipefail

# Pinned sources. nf-interpreter: the v1 line (mscorlib 1.x, PE format v1) that matches
# nanoFramework.CoreLibrary 1.17.11; 'develop' needs CoreLibrary 2.x. ChibiOS: 21.11.x, as
# nf-interpreter pins it. MetadataProcessor and mustache-sharp (its template engine, not on every NuGet
# feed): the commits with which the MetadataProcessor was built on .NET 10 and generated QnnLab.Nano's
# skeleton on the project's machine (firmware/nanoframework/README.md, "verified here").
NF_INTERPRETER_REPO=https://github.com/nanoframework/nf-interpreter.git
NF_INTERPRETER_REF=${NF_INTERPRETER_REF:-a3e8139a1ba778e33ca81b023099765eada6c456}
CHIBIOS_REPO=https://github.com/ChibiOS/ChibiOS.git
CHIBIOS_REF=${CHIBIOS_REF:-ver21.11.3}
MDP_REPO=https://github.com/nanoframework/metadata-processor.git
MDP_REF=${MDP_REF:-4541b46b25b6ddca89514c6627aa9973021b36d6}
MUSTACHE_REPO=https://github.com/jehugaleahsa/mustache-sharp.git
MUSTACHE_REF=${MUSTACHE_REF:-eada46d86b1284d73dbab2965c81d19a2f0ece6e}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mkdir -p "${1:-$root/build/nanoframework}" && cd "${1:-$root/build/nanoframework}" && pwd)"
out="$work/out"
mkdir -p "$out"

fetch() { # repo ref dir
  if [ ! -d "$3/.git" ]; then git clone --filter=blob:none "$1" "$3"; fi
  git -C "$3" fetch --depth 1 origin "$2" && git -C "$3" checkout --detach FETCH_HEAD
  echo "$(basename "$3"): $(git -C "$3" rev-parse HEAD)" >> "$out/SOURCES.txt"
}
: > "$out/SOURCES.txt"
fetch "$NF_INTERPRETER_REPO" "$NF_INTERPRETER_REF" "$work/nf-interpreter"
fetch "$CHIBIOS_REPO" "$CHIBIOS_REF" "$work/ChibiOS"
fetch "$MDP_REPO" "$MDP_REF" "$work/metadata-processor"
fetch "$MUSTACHE_REPO" "$MUSTACHE_REF" "$work/mustache-sharp"

echo "== 1. managed assemblies (against nanoFramework.CoreLibrary 1.17.11)"
# NanoHardware=true adds the System.IO.Ports / GPIO packages and compiles Hardware/ (NANO_HARDWARE).
# Pick versions whose nuspec depends on nanoFramework.CoreLibrary 1.17.x (mscorlib v1).
NANO_IO_PORTS_VERSION=${NANO_IO_PORTS_VERSION:?set NANO_IO_PORTS_VERSION (nanoFramework.System.IO.Ports built on CoreLibrary 1.17)}
NANO_GPIO_VERSION=${NANO_GPIO_VERSION:?set NANO_GPIO_VERSION (nanoFramework.System.Device.Gpio built on CoreLibrary 1.17)}
dotnet build "$root/firmware/nanoframework/QnnLab.NanoApp" -c Release -p:NanoHardware=true \
  -p:NanoIoPortsVersion="$NANO_IO_PORTS_VERSION" -p:NanoGpioVersion="$NANO_GPIO_VERSION"
lib="$root/firmware/nanoframework/QnnLab.Nano/bin/Release/netstandard2.0"
app="$root/firmware/nanoframework/QnnLab.NanoApp/bin/Release/netstandard2.0"

echo "== 2. MetadataProcessor: .pe files and the interop skeleton (lookup table + native checksum)"
"$root/tools/nanoframework/build-mdp.sh" "$work/metadata-processor" "$work/mustache-sharp" "$work/mdp"
mdp=(dotnet "$work/mdp/nanoFramework.Tools.MetadataProcessor.CLI.dll")
corlib="$HOME/.nuget/packages/nanoframework.corelibrary/1.17.11/lib"
# -compile <pe> <isCoreLibrary>; -generateSkeleton <folder> <assembly> <project> <withoutInteropCode>.
# The checksum it prints ("Native declaration checksum") is the one nanoCLR checks at load.
"${mdp[@]}" -loadHints mscorlib "$corlib/mscorlib.dll" -parse "$lib/QnnLab.Nano.dll" \
  -compile "$out/QnnLab.Nano.pe" false -generateSkeleton "$work/stubs" QnnLab.Nano QnnLab.Nano false | tee "$out/mdp.log"
"${mdp[@]}" -loadHints mscorlib "$corlib/mscorlib.dll" -loadHints QnnLab.Nano "$lib/QnnLab.Nano.dll" \
  -parse "$app/QnnLab.NanoApp.dll" -compile "$out/QnnLab.NanoApp.pe" false
cp "$corlib/mscorlib.pe" "$out/"

echo "== 3. interop assembly into nf-interpreter"
interop="$work/nf-interpreter/InteropAssemblies/QnnLab.Nano"
mkdir -p "$interop"
cp "$root"/firmware/nanoframework/interop/{QnnLab_Nano.h,QnnLab_Nano_QnnLab_Nano_QnnDevice.cpp,qnn_nano_port.h,qnn_nano_port.c} "$interop/"
cp "$root/boards/nucleo-l552ze-q/nanoframework/qnn_nano_board.c" "$interop/"
cp "$root/firmware/nanoframework/interop/FindINTEROP-QnnLab.Nano.cmake" "$work/nf-interpreter/CMake/Modules/"
# The generated lookup table and checksum replace the committed placeholder. Our header must declare
# exactly the natives the generator found, or the image would not link (or bind the wrong method).
cp "$work/stubs/QnnLab_Nano.cpp" "$interop/QnnLab_Nano.cpp"
generated=$(grep -o 'NANOCLR_NATIVE_DECLARE([^)]*)' "$work/stubs/QnnLab_Nano.h" | sort)
ours=$(grep -o 'NANOCLR_NATIVE_DECLARE([^)]*)' "$interop/QnnLab_Nano.h" | sort)
if [ "$generated" != "$ours" ]; then
  echo "native declarations differ from the MetadataProcessor's:"; diff <(echo "$ours") <(echo "$generated"); exit 1
fi
cp "$work/stubs/QnnLab_Nano.cpp" "$out/"

echo "== 4. target QNN_NUCLEO144_L552ZE (from ChibiOS's ST_NUCLEO144_L552ZE board)"
target="$work/nf-interpreter/targets/ChibiOS/QNN_NUCLEO144_L552ZE"
if [ ! -d "$target" ]; then
  # Start from nf-interpreter's Cortex-M7 ChibiOS target for the CMake skeleton, then put the L5
  # board, our presets and serial config in. Its linker scripts must be redone for the L552's memory
  # map (flash-layout.md): ChibiOS's STM32L552xE.ld rules plus nanoFramework's deployment section.
  cp -r "$work/nf-interpreter/targets/ChibiOS/ST_STM32F769I_DISCOVERY" "$target"
  rm -f "$target/board.c" "$target/board.h" "$target/target_windows_devices_serialcommunication_config."*
  cp "$work/ChibiOS/os/hal/boards/ST_NUCLEO144_L552ZE/"board.{c,h,mk} "$target/"
fi
cp "$root"/boards/nucleo-l552ze-q/nanoframework/{CMakePresets.json,target_board.h.in,target_system_io_ports_config.h,target_system_io_ports_config.cpp} "$target/"
# The L5 port needs the mcuconf/halconf of ChibiOS's NUCLEO144-L552ZE demo (110 MHz from MSI+PLL).
cp "$work/ChibiOS/demos/STM32/RT-STM32L552ZE-NUCLEO144/cfg/"{mcuconf.h,halconf.h,chconf.h} "$target/nanoCLR/"
sed -i 's/#define STM32_SERIAL_USE_LPUART1 .*/#define STM32_SERIAL_USE_LPUART1 TRUE/; s/#define STM32_UART_USE_USART3 .*/#define STM32_UART_USE_USART3 TRUE/' "$target/nanoCLR/mcuconf.h"

echo "== 5. nanoCLR"
export QNN_FIRMWARE_DIR="$root/firmware"
cmake -S "$work/nf-interpreter" -B "$work/build" --preset QNN_NUCLEO144_L552ZE \
  -DCHIBIOS_SOURCE_FOLDER="$work/ChibiOS" -DQNN_FIRMWARE_DIR="$QNN_FIRMWARE_DIR" \
  -DCMAKE_C_FLAGS="-DQNN_ARENA_SIZE=106496u -DQNN_MAX_INPUT_BYTES=3072u -DQNN_PROTO_MAX_LOGITS=64u"
cmake --build "$work/build"
cp "$work/build/"{nanoCLR.bin,nanoCLR.hex,nanoBooter.bin,nanoBooter.hex} "$out/" 2>/dev/null || true
echo "done: $out"
