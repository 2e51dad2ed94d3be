// LeakSanitizer's built-in suppressions for --config=asan (linked into every
// binary and test through --custom_malloc, so that no test has to find a
// suppressions file from its runfiles). Keep in sync with tools/lsan.supp,
// which tools/fuzz.sh passes to the libFuzzer builds.
extern "C" const char* __lsan_default_suppressions() {
  // One-time allocations inside LibTorch itself (its thread pool, dispatcher
  // and registry tables), not our code.
  return "leak:libtorch_cpu.so\nleak:libc10.so\n";
}
