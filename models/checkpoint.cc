#include "models/checkpoint.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "models/internal/unpickler.h"

namespace spat::models {
namespace {

using internal::PyRef;
using internal::PyValue;
using Kind = PyValue::Kind;

void Collect(const torch::nn::Module& m, const std::string& prefix,
             StateDict* out) {
  for (const auto& p : m.named_parameters(/*recurse=*/false)) {
    out->emplace_back(prefix + p.key(), p.value());
  }
  for (const auto& b : m.named_buffers(/*recurse=*/false)) {
    out->emplace_back(prefix + b.key(), b.value());
  }
  for (const auto& c : m.named_children()) {
    Collect(*c.value(), prefix + c.key() + ".", out);
  }
}

bool IsTensorDict(const PyValue& v) {
  if (v.kind != Kind::kDict || v.dict.empty()) return false;
  for (const auto& [k, t] : v.dict) {
    if (k->kind != Kind::kString || t->kind != Kind::kTensor) return false;
  }
  return true;
}

}  // namespace

StateDict GetStateDict(const torch::nn::Module& module) {
  StateDict out;
  Collect(module, "", &out);
  return out;
}

std::string SerializeStateDict(const StateDict& state) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [k, t] : state) {
    dict.insert(k, t.detach().to(at::kCPU).contiguous());
  }
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  return std::string(bytes.begin(), bytes.end());
}

absl::Status SaveStateDict(const StateDict& state, const std::string& path) {
  return WriteFileAtomically(path, SerializeStateDict(state));
}

namespace {

// The zip archive torch.save writes (refusing the legacy format by name).
absl::StatusOr<std::unique_ptr<caffe2::serialize::PyTorchStreamReader>> OpenArchive(
    const std::string& bytes, std::istringstream& stream, const std::string& name) {
  if (bytes.size() < 4 || bytes.compare(0, 4, "PK\x03\x04") != 0) {
    if (!bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x80) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": legacy (pre-1.6) torch.save format is not supported; "
                "re-save it with torch.save(obj, path) from PyTorch >= 1.6"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": not a PyTorch checkpoint (no zip signature)"));
  }
  try {
    return std::make_unique<caffe2::serialize::PyTorchStreamReader>(&stream);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": corrupt checkpoint archive: ",
                     std::string(e.what()).substr(0, 200)));
  }
}

// The dict of tensors in an unpickled checkpoint: the root, or the one under
// a usual wrapper key; DataParallel's "module." prefixes dropped.
absl::StatusOr<StateDict> TheStateDict(const PyValue& root, const std::string& name) {
  const PyValue* dict = nullptr;
  if (IsTensorDict(root)) {
    dict = &root;
  } else if (root.kind == Kind::kDict) {
    for (const char* wrapper : {"state_dict", "model", "model_state_dict", "net"}) {
      for (const auto& [k, v] : root.dict) {
        if (dict == nullptr && k->kind == Kind::kString && k->s == wrapper &&
            IsTensorDict(*v)) {
          dict = v.get();
        }
      }
    }
  }
  if (dict == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": holds no state dict (expected a dict of tensors, or one under "
              "'state_dict', 'model', 'model_state_dict' or 'net')"));
  }
  bool all_module_prefixed = true;
  for (const auto& kv : dict->dict) {
    all_module_prefixed &= absl::StartsWith(kv.first->s, "module.");
  }
  StateDict out;
  for (const auto& [k, v] : dict->dict) {
    out.emplace_back(all_module_prefixed ? k->s.substr(7) : k->s, v->tensor);
  }
  return out;
}

}  // namespace

absl::StatusOr<StateDict> ParseStateDict(const std::string& bytes,
                                         const std::string& name) {
  std::istringstream stream(bytes);
  SPAT_ASSIGN_OR_RETURN(std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader,
                        OpenArchive(bytes, stream, name));
  auto get_record =
      [&](const std::string& record) -> absl::StatusOr<std::string> {
    try {
      if (!reader->hasRecord(record)) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": archive has no record '", record, "'"));
      }
      auto [ptr, size] = reader->getRecord(record);
      return std::string(static_cast<const char*>(ptr.get()), size);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": cannot read record '", record, "': ",
                       std::string(e.what()).substr(0, 200)));
    }
  };
  SPAT_ASSIGN_OR_RETURN(std::string pickle, get_record("data.pkl"));

  std::map<std::string, at::Tensor> storages;  // shared between views
  auto load_storage =
      [&](const PyValue& pid) -> absl::StatusOr<at::Tensor> {
    if (pid.kind != Kind::kTuple || pid.items.size() < 5 ||
        pid.items[0]->kind != Kind::kString || pid.items[0]->s != "storage" ||
        pid.items[1]->kind != Kind::kGlobal ||
        pid.items[2]->kind != Kind::kString) {
      return absl::InvalidArgumentError("malformed storage persistent id");
    }
    SPAT_ASSIGN_OR_RETURN(at::ScalarType dtype,
                          internal::StorageDtype(pid.items[1]->s));
    const std::string& key = pid.items[2]->s;
    if (auto it = storages.find(key); it != storages.end()) {
      if (it->second.scalar_type() != dtype) {
        return absl::InvalidArgumentError(
            absl::StrCat("storage ", key, " used with two dtypes"));
      }
      return it->second;
    }
    SPAT_ASSIGN_OR_RETURN(std::string data,
                          get_record(absl::StrCat("data/", key)));
    const size_t elem = c10::elementSize(dtype);
    if (data.size() % elem != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "storage ", key, " holds ", data.size(),
          " bytes, not a whole number of ", elem, "-byte elements"));
    }
    at::Tensor t = at::empty({static_cast<int64_t>(data.size() / elem)},
                             at::TensorOptions().dtype(dtype));
    if (!data.empty()) std::memcpy(t.data_ptr(), data.data(), data.size());
    storages.emplace(key, t);
    return t;
  };
  SPAT_ASSIGN_OR_RETURN(PyRef root,
                        internal::Unpickle(pickle, load_storage, name));

  return TheStateDict(*root, name);
}

absl::StatusOr<StateDict> LoadStateDict(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open checkpoint ", path,
                                            ": ", std::strerror(errno)));
  }
  std::string bytes;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    return absl::DataLossError(absl::StrCat("cannot read checkpoint ", path));
  }
  return ParseStateDict(bytes, path);
}

absl::Status ApplyStateDict(const StateDict& state, torch::nn::Module& module,
                            const std::vector<std::string>& ignored_prefixes,
                            const std::string& name) {
  std::map<std::string, const at::Tensor*> given;
  for (const auto& [k, t] : state) given[k] = &t;
  std::vector<std::string> missing, mismatched;
  const StateDict own = GetStateDict(module);
  for (const auto& [k, t] : own) {
    auto it = given.find(k);
    if (it == given.end()) {
      missing.push_back(k);
    } else {
      if (it->second->sizes() != t.sizes()) {
        mismatched.push_back(absl::StrCat(k, " (checkpoint ",
                                          c10::str(it->second->sizes()),
                                          ", model ", c10::str(t.sizes()), ")"));
      }
      given.erase(it);
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& [k, t] : given) {
    bool ignored = false;
    for (const std::string& p : ignored_prefixes) {
      ignored |= absl::StartsWith(k, p);
    }
    if (!ignored) unexpected.push_back(k);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    auto list = [](const std::vector<std::string>& v) {
      const size_t shown = std::min<size_t>(v.size(), 8);
      std::string s = absl::StrJoin(v.begin(), v.begin() + shown, ", ");
      if (v.size() > shown) absl::StrAppend(&s, ", ... (", v.size(), " in all)");
      return s;
    };
    std::string msg = absl::StrCat(name, ": checkpoint does not fit the model");
    if (!missing.empty()) absl::StrAppend(&msg, "; missing keys: ", list(missing));
    if (!unexpected.empty()) {
      absl::StrAppend(&msg, "; unexpected keys: ", list(unexpected));
    }
    if (!mismatched.empty()) {
      absl::StrAppend(&msg, "; shape mismatch: ", list(mismatched));
    }
    return absl::InvalidArgumentError(msg);
  }
  std::map<std::string, const at::Tensor*> by_key;
  for (const auto& [k, t] : state) by_key[k] = &t;
  torch::NoGradGuard no_grad;
  for (const auto& [k, t] : own) {
    t.copy_(*by_key.at(k));
  }
  return absl::OkStatus();
}

absl::Status SaveCheckpoint(const torch::nn::Module& module,
                            const std::string& path) {
  return SaveStateDict(GetStateDict(module), path);
}

absl::Status LoadCheckpoint(const std::string& path, torch::nn::Module& module,
                            const std::vector<std::string>& ignored_prefixes) {
  SPAT_ASSIGN_OR_RETURN(StateDict state, LoadStateDict(path));
  return ApplyStateDict(state, module, ignored_prefixes, path);
}

}  // namespace spat::models
