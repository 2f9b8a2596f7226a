#!/usr/bin/env bash
# Makes the small sample binaries in this folder that the loader's library check is tested with
# (host/src/loader/binary/tests.rs, host/tests/bad_files.rs): libraries, executables and objects
# in the ELF, PE and Mach-O formats for several CPUs, and universal (fat) Mach-O libraries.
#
# The samples are committed, so building and testing the project needs none of this. To make them
# again (Debian/Ubuntu): apt-get install -y clang lld llvm, then run this script from anywhere.
# It uses clang, ld.lld, lld-link, ld64.lld and llvm-lipo (found on PATH or in
# /usr/lib/llvm-*/bin). Every sample is made from sample.c in this folder, without any system
# library, so that each is a few KB. The output is the same bytes on every run.
#
# Names say format, CPU and kind: elf-x86_64.so, pe-aarch64.dll, macho-x86_64.exe, ...
set -euo pipefail
cd "$(dirname "$0")"

llvm_bin=$(ls -d /usr/lib/llvm-*/bin 2>/dev/null | sort -V | tail -n 1 || true)
tool() {
  if command -v "$1" >/dev/null; then
    command -v "$1"
  elif [ -n "$llvm_bin" ] && [ -x "$llvm_bin/$1" ]; then
    echo "$llvm_bin/$1"
  else
    echo "missing tool: $1 (apt-get install -y clang lld llvm)" >&2
    exit 1
  fi
}
clang=$(tool clang)
ld_elf=$(tool ld.lld)
ld_pe=$(tool lld-link)
ld_macho=$(tool ld64.lld)
lipo=$(tool llvm-lipo)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
put() { mv -f "$1" "$2"; echo "sample $2 ($(wc -c <"$2") bytes)"; }
obj() { # obj TARGET OUT [clang flags...]
  local target=$1 out=$2
  shift 2
  "$clang" --target="$target" -Os -fno-asynchronous-unwind-tables -fno-stack-protector \
    -ffreestanding "$@" -c sample.c -o "$out"
}

# ELF: a shared library per CPU, plus an executable (position-dependent and PIE) and a
# relocatable object for x86_64.
for pair in x86_64:x86_64-linux-gnu aarch64:aarch64-linux-gnu i386:i386-linux-gnu; do
  cpu=${pair%%:*}
  obj "${pair#*:}" "$work/$cpu.o" -fPIC
  "$ld_elf" -shared --build-id=none -z norelro -soname "sample-$cpu.so" "$work/$cpu.o" \
    -o "$work/elf-$cpu.so"
  put "$work/elf-$cpu.so" "elf-$cpu.so"
done
cp "$work/x86_64.o" "$work/elf-x86_64.o"
put "$work/elf-x86_64.o" elf-x86_64.o
obj x86_64-linux-gnu "$work/exe.o" -fPIE -DEXECUTABLE
"$ld_elf" -pie --build-id=none -z norelro -e sample_main "$work/exe.o" -o "$work/elf-x86_64-pie"
put "$work/elf-x86_64-pie" elf-x86_64-pie
"$ld_elf" --build-id=none -z norelro -e sample_main "$work/exe.o" -o "$work/elf-x86_64.exe"
put "$work/elf-x86_64.exe" elf-x86_64.exe

# PE: a DLL per CPU (x86_64, aarch64; i386 is PE32, 32-bit) and an x86_64 executable.
for pair in x86_64:x86_64-pc-windows-msvc:x64 aarch64:aarch64-pc-windows-msvc:arm64 \
  i386:i386-pc-windows-msvc:x86; do
  IFS=: read -r cpu target machine <<<"$pair"
  obj "$target" "$work/pe-$cpu.obj"
  "$ld_pe" /nologo /Brepro /dll /noentry /nodefaultlib "/machine:$machine" /export:sample_answer \
    "$work/pe-$cpu.obj" "/out:$work/pe-$cpu.dll"
  put "$work/pe-$cpu.dll" "pe-$cpu.dll"
done
obj x86_64-pc-windows-msvc "$work/exe.obj" -DEXECUTABLE
"$ld_pe" /nologo /Brepro /nodefaultlib /machine:x64 /subsystem:console /entry:sample_main \
  "$work/exe.obj" "/out:$work/pe-x86_64.exe"
put "$work/pe-x86_64.exe" pe-x86_64.exe

# Mach-O: a dylib per CPU, a bundle, an executable and an object for x86_64, and two universal
# files: one with x86_64 and arm64, one with arm64 alone.
for pair in x86_64:x86_64-apple-macos11:x86_64 aarch64:arm64-apple-macos11:arm64; do
  IFS=: read -r cpu target arch <<<"$pair"
  obj "$target" "$work/macho-$cpu.o"
  "$ld_macho" -dylib -arch "$arch" -platform_version macos 11.0 11.0 \
    -install_name "@rpath/sample-$cpu.dylib" "$work/macho-$cpu.o" -o "$work/macho-$cpu.dylib"
  put "$work/macho-$cpu.dylib" "macho-$cpu.dylib"
done
"$ld_macho" -bundle -arch x86_64 -platform_version macos 11.0 11.0 "$work/macho-x86_64.o" \
  -o "$work/macho-x86_64.bundle"
put "$work/macho-x86_64.bundle" macho-x86_64.bundle
cp "$work/macho-x86_64.o" "$work/macho-x86_64.o.tmp"
put "$work/macho-x86_64.o.tmp" macho-x86_64.o
obj x86_64-apple-macos11 "$work/exe.o" -DEXECUTABLE
"$ld_macho" -execute -arch x86_64 -platform_version macos 11.0 11.0 -e _sample_main \
  "$work/exe.o" -o "$work/macho-x86_64.exe"
put "$work/macho-x86_64.exe" macho-x86_64.exe
"$lipo" -create macho-x86_64.dylib macho-aarch64.dylib -output "$work/macho-universal.dylib"
put "$work/macho-universal.dylib" macho-universal.dylib
"$lipo" -create macho-aarch64.dylib -output "$work/macho-universal-aarch64.dylib"
put "$work/macho-universal-aarch64.dylib" macho-universal-aarch64.dylib
