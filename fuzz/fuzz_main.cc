// A libFuzzer-compatible driver for builds without libFuzzer (gcc, CI):
//
//   idx_fuzzer [-max_total_time=S] [-runs=N] [-seed=N] CORPUS_DIR_OR_FILE...
//
// runs every corpus input through LLVMFuzzerTestOneInput, then mutates them
// (bit flips, byte overwrites, truncations, insertions, erasures, copied
// runs, boundary integers) until the time or run budget is spent. It prints
// the executions like libFuzzer's "Done N runs". If an input crashes the
// target, the input is written to ./crash-<pid> (or $TEST_UNDECLARED_OUTPUTS_DIR)
// before the signal is re-raised, so the crash can be replayed by passing
// that file back. Under --config=fuzz, libFuzzer's own main replaces this.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The input being run, for the crash handler (async-signal-safe write).
const std::string* g_current = nullptr;
char g_crash_path[4096];

void OnCrash(int sig) {
  if (g_current != nullptr) {
    const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ssize_t unused = ::write(fd, g_current->data(), g_current->size());
      (void)unused;
      ::close(fd);
    }
    const char msg[] = "fuzz_main: crashing input written to ";
    ssize_t unused = ::write(2, msg, sizeof(msg) - 1);
    unused = ::write(2, g_crash_path, std::strlen(g_crash_path));
    unused = ::write(2, "\n", 1);
    (void)unused;
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void Run(const std::string& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  g_current = nullptr;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

void Collect(const std::string& path, std::vector<std::string>* corpus) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    std::cerr << "fuzz_main: cannot read " << path << "\n";
    std::exit(2);
  }
  if (S_ISDIR(st.st_mode)) {
    DIR* d = ::opendir(path.c_str());
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(path + "/" + e->d_name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) Collect(n, corpus);
    return;
  }
  std::string bytes;
  if (!ReadFile(path, &bytes)) {
    std::cerr << "fuzz_main: cannot read " << path << "\n";
    std::exit(2);
  }
  corpus->push_back(std::move(bytes));
}

std::string Mutate(std::string s, std::mt19937_64& rng, const std::vector<std::string>& corpus) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 8) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // overwrite a byte
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
        break;
      case 2:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      case 3:  // insert random bytes
        s.insert(pick(s.size() + 1), std::string(1 + rng() % 8, static_cast<char>(rng())));
        break;
      case 4:  // erase a run
        if (!s.empty()) {
          const size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(64, s.size() - at)));
        }
        break;
      case 5: {  // a boundary 32-bit integer, either endianness
        static const uint32_t kValues[] = {0u, 1u, 0x7fu, 0x80u, 0xffu, 0x7fffffffu,
                                           0x80000000u, 0xffffffffu, 10u, 255u};
        if (s.size() >= 4) {
          uint32_t v = kValues[rng() % (sizeof(kValues) / sizeof(kValues[0]))];
          if (rng() % 2) v = __builtin_bswap32(v);
          std::memcpy(&s[pick(s.size() - 3)], &v, 4);
        }
        break;
      }
      case 6:  // copy a run from another corpus input
        if (!corpus.empty()) {
          const std::string& o = corpus[pick(corpus.size())];
          if (!o.empty()) {
            const size_t from = pick(o.size());
            const size_t n = 1 + pick(std::min<size_t>(256, o.size() - from));
            s.insert(pick(s.size() + 1), o.substr(from, n));
          }
        }
        break;
      case 7:  // duplicate a run in place
        if (!s.empty()) {
          const size_t from = pick(s.size());
          s.insert(pick(s.size() + 1), s.substr(from, 1 + pick(std::min<size_t>(32, s.size() - from))));
        }
        break;
    }
  }
  return s;
}

bool Flag(const char* arg, const char* name, long long* value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0) return false;
  char* end = nullptr;
  *value = std::strtoll(arg + n, &end, 10);
  if (end == arg + n || *end != '\0' || *value < 0) {
    std::cerr << "fuzz_main: bad value in '" << arg << "'\n";
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long long seconds = 10, runs = -1, seed = 1;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    long long v;
    if (Flag(argv[i], "-max_total_time=", &v)) {
      seconds = v;
    } else if (Flag(argv[i], "-runs=", &v)) {
      runs = v;
    } else if (Flag(argv[i], "-seed=", &v)) {
      seed = v;
    } else if (argv[i][0] == '-') {
      std::cerr << "fuzz_main: unknown flag '" << argv[i]
                << "' (supported: -max_total_time=S -runs=N -seed=N)\n";
      return 2;
    } else {
      Collect(argv[i], &corpus);
    }
  }
  const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  std::snprintf(g_crash_path, sizeof(g_crash_path), "%s/crash-%d", out ? out : ".",
                static_cast<int>(::getpid()));
  for (int sig : {SIGSEGV, SIGABRT, SIGFPE, SIGBUS, SIGILL, SIGTRAP}) ::signal(sig, OnCrash);

  long long executed = 0;
  for (const std::string& input : corpus) {
    Run(input);
    ++executed;
  }
  Run("");
  ++executed;
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while ((runs < 0 || executed < runs) && std::chrono::steady_clock::now() < deadline) {
    const std::string base = corpus.empty() ? std::string() : corpus[rng() % corpus.size()];
    Run(Mutate(base, rng, corpus));
    ++executed;
  }
  std::cout << "Done " << executed << " runs in " << seconds << " second(s) over "
            << corpus.size() << " corpus input(s)" << std::endl;
  return 0;
}
