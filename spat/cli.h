// Command-line parsing for every spat binary: Abseil flags, but bad usage
// exits 2 (Abseil's own parser exits 1 on an unknown flag or a malformed
// value, which our convention reserves for bad data):
//
//   std::vector<char*> rest = spat::ParseCommandLineOrExit(argc, argv);
//
// Unknown flags and values that do not parse are reported by name
// ("error: --epsilon: Illegal value 'abc'...") with exit code 2; positional
// arguments are refused the same way. Returns argv[0] plus nothing else.
#ifndef SPAT_SPAT_CLI_H_
#define SPAT_SPAT_CLI_H_

#include <vector>

namespace spat {

// Also tunes glibc malloc and OpenBLAS for tensor workloads (see TuneAllocator
// and TuneBlas).
std::vector<char*> ParseCommandLineOrExit(int argc, char** argv);

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

#endif  // SPAT_SPAT_CLI_H_
