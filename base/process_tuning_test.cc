#include "base/process_tuning.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>
#include <vector>

#include "gtest/gtest.h"

namespace spat {
namespace {

// OpenBLAS, which LibTorch loads where Debian's BLAS is OpenBLAS, runs one
// thread after TuneBlas (with another BLAS there is nothing to check).
TEST(ProcessTuning, BlasRunsOneThread) {
  ASSERT_GE(at::get_num_threads(), 1);  // LibTorch (and its BLAS) loaded
  ASSERT_EQ(unsetenv("OPENBLAS_NUM_THREADS"), 0);
  TuneBlas();
  using GetThreads = int (*)();
  auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (get == nullptr) GTEST_SKIP() << "no OpenBLAS in this process";
  EXPECT_EQ(get(), 1);
}

// After TuneAllocator a freed 8 MiB buffer stays in the heap (glibc's default
// would have served and returned it with mmap/munmap).
TEST(ProcessTuning, AllocatorKeepsLargeBuffers) {
  ASSERT_EQ(unsetenv("SPAT_DEFAULT_MALLOC"), 0);
  TuneAllocator();
  const size_t mapped_before = mallinfo2().hblkhd;
  std::vector<char>* big = new std::vector<char>(8 << 20, 1);
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before) << "8 MiB came from mmap";
  delete big;
  EXPECT_GE(mallinfo2().fordblks, size_t{8} << 20) << "freed block not kept for reuse";
}

}  // namespace
}  // namespace spat
