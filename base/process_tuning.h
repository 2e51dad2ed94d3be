// Process-wide settings for tensor workloads, applied once at the start of
// every binary (ParseCommandLineOrExit does it):
//
//   spat::TuneAllocator();
//   spat::TuneBlas();
#ifndef SPAT_BASE_PROCESS_TUNING_H_
#define SPAT_BASE_PROCESS_TUNING_H_

namespace spat {

// Keeps freed tensor buffers (up to 32 MiB each) in the heap for reuse
// instead of returning them to the kernel: glibc's default serves every
// large tensor with a fresh mmap, whose pages the kernel faults in and zeroes
// again on every training step (~300k page faults and a fifth of the CPU
// time of a SmallCNN SPAT step on the 2-core machine; 80k and ~15% more img/s
// with this; docs/performance.md). SPAT_DEFAULT_MALLOC=1 leaves glibc as is.
void TuneAllocator();

// Runs OpenBLAS single-threaded, unless OPENBLAS_NUM_THREADS is set. Debian's
// OpenBLAS (libopenblas0-pthread) keeps its own pool of threads, which spin
// after every GEMM and so take cores from LibTorch's OpenMP threads running
// the next convolution; the GEMMs here (linear layers, a few MFLOP) gain
// little from a second thread. A SmallCNN SPAT step on the 2-core machine:
// 224-266 -> 311-314 img/s (docs/performance.md).
void TuneBlas();

}  // namespace spat

#endif  // SPAT_BASE_PROCESS_TUNING_H_
