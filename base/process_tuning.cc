#include "base/process_tuning.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>
#include <string>

namespace spat {

void TuneAllocator() {
  const char* keep = std::getenv("SPAT_DEFAULT_MALLOC");
  if (keep != nullptr && std::string(keep) == "1") return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

void TuneBlas() {
  if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;
  // Looked up, not linked: LibTorch loads OpenBLAS when Debian's BLAS is
  // OpenBLAS; with another BLAS there is nothing to do.
  using SetThreads = void (*)(int);
  auto set_threads =
      reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set_threads != nullptr) set_threads(1);
}

}  // namespace spat
