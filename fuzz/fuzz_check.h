// FUZZ_CHECK(cond): a fuzz target's invariant. Prints the condition and traps,
// which libFuzzer and fuzz_main both report as a crash with the input saved.
#ifndef SPAT_FUZZ_FUZZ_CHECK_H_
#define SPAT_FUZZ_FUZZ_CHECK_H_

#include <cstdio>

#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      __builtin_trap();                                                               \
    }                                                                                 \
  } while (0)

#endif  // SPAT_FUZZ_FUZZ_CHECK_H_
