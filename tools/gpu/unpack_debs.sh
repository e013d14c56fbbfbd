#!/usr/bin/env bash
# Unpacks Debian 12 .deb files (cbir's build dependencies, fetched with `apt-get download`) into a
# private prefix on a machine that lacks them, without touching / (no dpkg database, no
# alternatives), and repairs what dpkg's maintainer scripts would have set up:
#   - libblas.so / liblapack.so: OpenBLAS (Debian picks it through update-alternatives);
#   - cblas.h: the generic CBLAS header (also an alternative);
#   - FAISS's CMake targets and the pkg-config files: absolute /usr paths -> the prefix.
# Its bin/ goes last on PATH (pkg-config, from the pkgconf .debs, where the machine has none).
#
#   tools/gpu/unpack_debs.sh DEBS_DIR PREFIX
#
# Then configure with -DCMAKE_PREFIX_PATH=PREFIX/usr, PKG_CONFIG_PATH as printed, and run with
# LD_LIBRARY_PATH as printed (both are also written to PREFIX/env.sh).
set -euo pipefail
debs=$1
prefix=$(mkdir -p "$2" && cd "$2" && pwd)
arch=x86_64-linux-gnu
lib=$prefix/usr/lib/$arch

for f in "$debs"/*.deb; do dpkg -x "$f" "$prefix"; done

ln -sf openblas-pthread/libblas.so.3 "$lib/libblas.so"
ln -sf openblas-pthread/liblapack.so.3 "$lib/liblapack.so"
ln -sf cblas-netlib.h "$prefix/usr/include/$arch/cblas.h"

if [ -d "$lib/cmake/faiss" ]; then
  sed -i "s#/usr/lib/$arch/#$lib/#g" "$lib/cmake/faiss/"*.cmake
fi
for pc in "$lib"/pkgconfig/*.pc "$prefix"/usr/share/pkgconfig/*.pc; do
  [ -f "$pc" ] && sed -i -E "s#^([a-z_]+)=/usr(/|\$)#\\1=$prefix/usr\\2#" "$pc"
done

cat > "$prefix/env.sh" <<EOF
export PKG_CONFIG_PATH=$lib/pkgconfig:$prefix/usr/share/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$lib/openblas-pthread:$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export PATH=\$PATH:$prefix/usr/bin
EOF
cat "$prefix/env.sh"
