#include "models/internal/unpickler.h"

#include <ATen/ATen.h>

#include <cstring>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace spat::models::internal {
namespace {

using Kind = PyValue::Kind;

PyRef Make(Kind k) {
  auto v = std::make_shared<PyValue>();
  v->kind = k;
  return v;
}

PyRef MakeInt(int64_t i) {
  PyRef v = Make(Kind::kInt);
  v->i = i;
  return v;
}

absl::StatusOr<std::vector<int64_t>> IntTuple(const PyValue& v,
                                              const char* what) {
  if (v.kind != Kind::kTuple && v.kind != Kind::kList) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a tuple"));
  }
  std::vector<int64_t> out;
  for (const PyRef& e : v.items) {
    if (e->kind != Kind::kInt) {
      return absl::InvalidArgumentError(absl::StrCat(what, " holds a non-int"));
    }
    out.push_back(e->i);
  }
  return out;
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, ...): a strided
// view of the storage, bounds-checked, then copied so it owns its memory.
absl::StatusOr<PyRef> RebuildTensor(const PyValue& args) {
  if (args.kind != Kind::kTuple || args.items.size() < 4 ||
      args.items[0]->kind != Kind::kTensor || args.items[1]->kind != Kind::kInt) {
    return absl::InvalidArgumentError("malformed _rebuild_tensor arguments");
  }
  const at::Tensor& storage = args.items[0]->tensor;
  const int64_t offset = args.items[1]->i;
  absl::StatusOr<std::vector<int64_t>> size = IntTuple(*args.items[2], "size");
  if (!size.ok()) return size.status();
  absl::StatusOr<std::vector<int64_t>> stride =
      IntTuple(*args.items[3], "stride");
  if (!stride.ok()) return stride.status();
  if (size->size() != stride->size() || size->size() > 16) {
    return absl::InvalidArgumentError("tensor size and stride ranks differ");
  }
  int64_t last = offset;
  bool empty = false;
  for (size_t d = 0; d < size->size(); ++d) {
    if ((*size)[d] < 0 || (*stride)[d] < 0 || (*size)[d] > (int64_t{1} << 40) ||
        (*stride)[d] > (int64_t{1} << 40)) {
      return absl::InvalidArgumentError("negative or huge tensor size/stride");
    }
    if ((*size)[d] == 0) empty = true;
    else last += ((*size)[d] - 1) * (*stride)[d];
  }
  if (offset < 0 || (!empty && last >= storage.numel())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor of size ", c10::str(c10::IntArrayRef(*size)), " at offset ",
        offset, " reads past its storage of ", storage.numel(), " elements"));
  }
  PyRef t = Make(Kind::kTensor);
  t->tensor = empty ? at::empty(*size, storage.options())
                    : storage.as_strided(*size, *stride, offset).clone();
  return t;
}

class Machine {
 public:
  Machine(const std::string& bytes, const StorageLoader& load,
          const std::string& name)
      : in_(bytes), load_(load), name_(name) {}

  absl::StatusOr<PyRef> Run();

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: bad pickle at byte %d: %s", name_, pos_, what));
  }
  bool Need(size_t n) const { return pos_ + n <= in_.size(); }
  uint64_t ReadLE(size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) {
      v |= uint64_t{static_cast<unsigned char>(in_[pos_ + k])} << (8 * k);
    }
    pos_ += n;
    return v;
  }
  absl::StatusOr<PyRef> Pop() {
    if (stack_.empty()) return Error("stack underflow");
    PyRef v = stack_.back();
    stack_.pop_back();
    return v;
  }
  // Pops everything above the last MARK.
  absl::StatusOr<std::vector<PyRef>> PopMark() {
    if (marks_.empty()) return Error("no MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    if (m > stack_.size()) return Error("MARK beyond stack");
    std::vector<PyRef> items(stack_.begin() + static_cast<ptrdiff_t>(m),
                             stack_.end());
    stack_.resize(m);
    return items;
  }
  absl::Status SetItems(const std::vector<PyRef>& kv) {
    if (stack_.empty() || stack_.back()->kind != Kind::kDict) {
      return Error("SETITEM(S) on a non-dict");
    }
    if (kv.size() % 2 != 0) return Error("odd SETITEMS");
    for (size_t k = 0; k < kv.size(); k += 2) {
      stack_.back()->dict.emplace_back(kv[k], kv[k + 1]);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<PyRef> Reduce(const PyValue& callable, const PyRef& args);
  absl::StatusOr<std::string> ReadLine() {
    const size_t nl = in_.find('\n', pos_);
    if (nl == std::string::npos) return Error("unterminated line");
    std::string s = in_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return s;
  }

  const std::string& in_;
  const StorageLoader& load_;
  const std::string& name_;
  size_t pos_ = 0;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyRef> memo_;
};

absl::StatusOr<PyRef> Machine::Reduce(const PyValue& callable,
                                      const PyRef& args) {
  if (callable.kind != Kind::kGlobal) return Error("REDUCE on a non-global");
  const std::string& g = callable.s;
  if (g == "collections.OrderedDict" || g == "builtins.dict") {
    return Make(Kind::kDict);
  }
  if (g == "torch._utils._rebuild_tensor_v2" ||
      g == "torch._utils._rebuild_tensor") {
    absl::StatusOr<PyRef> t = RebuildTensor(*args);
    if (!t.ok()) return Error(std::string(t.status().message()));
    return t;
  }
  if (g == "torch._utils._rebuild_parameter" ||
      g == "torch._utils._rebuild_parameter_with_state" ||
      g == "torch.jit._pickle.restore_type_tag" ||
      g == "torch.jit._pickle.build_intlist" ||
      g == "torch.jit._pickle.build_doublelist" ||
      g == "torch.jit._pickle.build_boollist" ||
      g == "torch.jit._pickle.build_tensorlist" ||
      g == "torch.jit._pickle.build_genericlist") {
    if (args->kind != Kind::kTuple || args->items.empty()) {
      return Error(absl::StrCat("malformed arguments to ", g));
    }
    return args->items[0];
  }
  return Error(absl::StrCat("unsupported global '", g,
                            "' (not a plain state dict?)"));
}

absl::StatusOr<PyRef> Machine::Run() {
  while (true) {
    if (!Need(1)) return Error("truncated (no STOP)");
    const unsigned char op = static_cast<unsigned char>(in_[pos_++]);
    switch (op) {
      case 0x80:  // PROTO
        if (!Need(1)) return Error("truncated PROTO");
        ++pos_;
        break;
      case 0x95:  // FRAME
        if (!Need(8)) return Error("truncated FRAME");
        pos_ += 8;
        break;
      case '.': {  // STOP
        absl::StatusOr<PyRef> v = Pop();
        return v;
      }
      case '(':
        marks_.push_back(stack_.size());
        break;
      case 'N':
        stack_.push_back(Make(Kind::kNone));
        break;
      case 0x88:
      case 0x89: {  // NEWTRUE / NEWFALSE
        PyRef v = Make(Kind::kBool);
        v->b = op == 0x88;
        stack_.push_back(v);
        break;
      }
      case 'K':  // BININT1
        if (!Need(1)) return Error("truncated BININT1");
        stack_.push_back(MakeInt(static_cast<int64_t>(ReadLE(1))));
        break;
      case 'M':  // BININT2
        if (!Need(2)) return Error("truncated BININT2");
        stack_.push_back(MakeInt(static_cast<int64_t>(ReadLE(2))));
        break;
      case 'J':  // BININT (signed 32-bit)
        if (!Need(4)) return Error("truncated BININT");
        stack_.push_back(
            MakeInt(static_cast<int32_t>(static_cast<uint32_t>(ReadLE(4)))));
        break;
      case 0x8a: {  // LONG1
        if (!Need(1)) return Error("truncated LONG1");
        const size_t n = static_cast<size_t>(ReadLE(1));
        if (n > 8 || !Need(n)) return Error("LONG1 too long or truncated");
        uint64_t v = n ? ReadLE(n) : 0;
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) {
          v |= ~uint64_t{0} << (8 * n);  // sign-extend
        }
        stack_.push_back(MakeInt(static_cast<int64_t>(v)));
        break;
      }
      case 'G': {  // BINFLOAT, big-endian double
        if (!Need(8)) return Error("truncated BINFLOAT");
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) {
          bits = (bits << 8) | static_cast<unsigned char>(in_[pos_ + k]);
        }
        pos_ += 8;
        PyRef v = Make(Kind::kFloat);
        std::memcpy(&v->f, &bits, sizeof(double));
        stack_.push_back(v);
        break;
      }
      case 'X':     // BINUNICODE
      case 0x8c:    // SHORT_BINUNICODE
      case 'U':     // SHORT_BINSTRING
      case 'T':     // BINSTRING
      case 'B':     // BINBYTES
      case 'C': {   // SHORT_BINBYTES
        const size_t width = (op == 'X' || op == 'T' || op == 'B') ? 4 : 1;
        if (!Need(width)) return Error("truncated string length");
        const size_t n = static_cast<size_t>(ReadLE(width));
        if (!Need(n)) return Error("truncated string");
        PyRef v = Make(Kind::kString);
        v->s = in_.substr(pos_, n);
        pos_ += n;
        stack_.push_back(v);
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        absl::StatusOr<std::string> module = ReadLine();
        if (!module.ok()) return module.status();
        absl::StatusOr<std::string> nm = ReadLine();
        if (!nm.ok()) return nm.status();
        PyRef v = Make(Kind::kGlobal);
        v->s = absl::StrCat(*module, ".", *nm);
        stack_.push_back(v);
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        absl::StatusOr<PyRef> nm = Pop();
        if (!nm.ok()) return nm.status();
        absl::StatusOr<PyRef> module = Pop();
        if (!module.ok()) return module.status();
        if ((*nm)->kind != Kind::kString || (*module)->kind != Kind::kString) {
          return Error("STACK_GLOBAL needs two strings");
        }
        PyRef v = Make(Kind::kGlobal);
        v->s = absl::StrCat((*module)->s, ".", (*nm)->s);
        stack_.push_back(v);
        break;
      }
      case 'q':  // BINPUT
      case 'r':  // LONG_BINPUT
      case 0x94: {  // MEMOIZE
        if (stack_.empty()) return Error("memoize on empty stack");
        uint64_t key;
        if (op == 0x94) {
          key = memo_.size();
        } else {
          const size_t w = op == 'q' ? 1 : 4;
          if (!Need(w)) return Error("truncated BINPUT");
          key = ReadLE(w);
        }
        memo_[key] = stack_.back();
        break;
      }
      case 'h':    // BINGET
      case 'j': {  // LONG_BINGET
        const size_t w = op == 'h' ? 1 : 4;
        if (!Need(w)) return Error("truncated BINGET");
        auto it = memo_.find(ReadLE(w));
        if (it == memo_.end()) return Error("BINGET of an unknown memo key");
        stack_.push_back(it->second);
        break;
      }
      case ')':
        stack_.push_back(Make(Kind::kTuple));
        break;
      case ']':
        stack_.push_back(Make(Kind::kList));
        break;
      case '}':
        stack_.push_back(Make(Kind::kDict));
        break;
      case 't': {  // TUPLE
        absl::StatusOr<std::vector<PyRef>> items = PopMark();
        if (!items.ok()) return items.status();
        PyRef v = Make(Kind::kTuple);
        v->items = std::move(*items);
        stack_.push_back(v);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t n = op - 0x84;
        if (stack_.size() < n) return Error("stack underflow in TUPLEn");
        PyRef v = Make(Kind::kTuple);
        v->items.assign(stack_.end() - static_cast<ptrdiff_t>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        stack_.push_back(v);
        break;
      }
      case 'l': {  // LIST
        absl::StatusOr<std::vector<PyRef>> items = PopMark();
        if (!items.ok()) return items.status();
        PyRef v = Make(Kind::kList);
        v->items = std::move(*items);
        stack_.push_back(v);
        break;
      }
      case 'a': {  // APPEND
        absl::StatusOr<PyRef> v = Pop();
        if (!v.ok()) return v.status();
        if (stack_.empty() || stack_.back()->kind != Kind::kList) {
          return Error("APPEND to a non-list");
        }
        stack_.back()->items.push_back(*v);
        break;
      }
      case 'e': {  // APPENDS
        absl::StatusOr<std::vector<PyRef>> items = PopMark();
        if (!items.ok()) return items.status();
        if (stack_.empty() || stack_.back()->kind != Kind::kList) {
          return Error("APPENDS to a non-list");
        }
        for (PyRef& e : *items) stack_.back()->items.push_back(e);
        break;
      }
      case 's': {  // SETITEM
        if (stack_.size() < 3) return Error("stack underflow in SETITEM");
        std::vector<PyRef> kv(stack_.end() - 2, stack_.end());
        stack_.resize(stack_.size() - 2);
        if (absl::Status st = SetItems(kv); !st.ok()) return st;
        break;
      }
      case 'u': {  // SETITEMS
        absl::StatusOr<std::vector<PyRef>> kv = PopMark();
        if (!kv.ok()) return kv.status();
        if (absl::Status st = SetItems(*kv); !st.ok()) return st;
        break;
      }
      case 'R': {  // REDUCE
        absl::StatusOr<PyRef> args = Pop();
        if (!args.ok()) return args.status();
        absl::StatusOr<PyRef> callable = Pop();
        if (!callable.ok()) return callable.status();
        absl::StatusOr<PyRef> v = Reduce(**callable, *args);
        if (!v.ok()) return v.status();
        stack_.push_back(*v);
        break;
      }
      case 'b': {  // BUILD: state is attached to an object; state dicts
                   // carry only `_metadata` there, which we do not need.
        absl::StatusOr<PyRef> state = Pop();
        if (!state.ok()) return state.status();
        if (stack_.empty()) return Error("BUILD on empty stack");
        break;
      }
      case 'Q': {  // BINPERSID
        absl::StatusOr<PyRef> pid = Pop();
        if (!pid.ok()) return pid.status();
        absl::StatusOr<at::Tensor> storage = load_(**pid);
        if (!storage.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(name_, ": ", storage.status().message()));
        }
        PyRef v = Make(Kind::kTensor);
        v->tensor = *storage;
        stack_.push_back(v);
        break;
      }
      case '0':  // POP
        if (stack_.empty()) return Error("POP on empty stack");
        stack_.pop_back();
        break;
      default:
        return Error(absl::StrFormat("unsupported opcode 0x%02x", op));
    }
  }
}

}  // namespace

absl::StatusOr<at::ScalarType> StorageDtype(const std::string& global) {
  static const auto* map = new std::unordered_map<std::string, at::ScalarType>{
      {"torch.FloatStorage", at::kFloat},   {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},     {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},     {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},   {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},     {"torch.BoolStorage", at::kBool},
  };
  auto it = map->find(global);
  if (it == map->end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported storage type '", global, "'"));
  }
  return it->second;
}

absl::StatusOr<PyRef> Unpickle(const std::string& bytes,
                               const StorageLoader& load_storage,
                               const std::string& name) {
  Machine m(bytes, load_storage, name);
  return m.Run();
}

}  // namespace spat::models::internal
