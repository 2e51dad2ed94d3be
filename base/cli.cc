#include "base/cli.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/process_tuning.h"

namespace spat {
namespace {

[[noreturn]] void Usage(const std::string& message) {
  std::cerr << "error: " << message << " (see --help)\n";
  std::exit(2);
}

// Checks one "--name[=value]" argument without keeping its value; a value in
// the next argument ("--name value") is checked as well.
void Check(int* i, int argc, char** argv) {
  absl::string_view arg = argv[*i];
  arg.remove_prefix(arg.size() > 1 && arg[1] == '-' ? 2 : 1);
  const size_t eq = arg.find('=');
  const std::string name(arg.substr(0, eq));
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr && absl::StartsWith(name, "no")) {
    // --nofoo for a boolean foo.
    absl::CommandLineFlag* b = absl::FindCommandLineFlag(name.substr(2));
    if (b != nullptr && b->IsOfType<bool>() && eq == absl::string_view::npos) return;
  }
  if (flag == nullptr) Usage("unknown flag --" + name);
  std::string value;
  if (eq != absl::string_view::npos) {
    value = std::string(arg.substr(eq + 1));
  } else if (flag->IsOfType<bool>()) {
    return;
  } else if (*i + 1 < argc) {
    value = argv[++*i];
  } else {
    Usage("--" + name + " needs a value");
  }
  // Parse into a scratch copy of the flag's value: the real parse follows.
  const std::string saved = flag->CurrentValue();
  std::string err;
  if (!flag->ParseFrom(value, &err)) Usage("--" + name + ": " + err);
  std::string ignored;
  flag->ParseFrom(saved, &ignored);
}

}  // namespace

std::vector<char*> ParseCommandLineOrExit(int argc, char** argv) {
  TuneAllocator();
  TuneBlas();
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      Check(&i, argc, argv);
    } else {
      Usage("unexpected argument '" + std::string(arg) + "'");
    }
  }
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) Usage("unexpected argument '" + std::string(rest[1]) + "'");
  return rest;
}

std::string UserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  return wd != nullptr && *wd ? absl::StrCat(wd, "/", path) : path;
}

int ThreadsOrAllCores(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace spat
