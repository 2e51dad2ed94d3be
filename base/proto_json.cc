#include "base/proto_json.h"

#include <google/protobuf/util/json_util.h>

namespace spat {

std::string ToJson(const google::protobuf::Message& message, bool with_defaults) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.always_print_primitive_fields = with_defaults;
  opts.preserve_proto_field_names = true;
  std::string json;
  // Fails only on messages with invalid UTF-8 strings or unresolvable Any.
  if (!google::protobuf::util::MessageToJsonString(message, &json, opts).ok()) return "{}\n";
  return json;
}

void SetDefaultsExplicitly(google::protobuf::Message* message) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* d = message->GetDescriptor();
  const google::protobuf::Reflection* r = message->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) {
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      for (int k = 0; k < r->FieldSize(*message, f); ++k) {
        SetDefaultsExplicitly(r->MutableRepeatedMessage(message, f, k));
      }
      continue;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (r->HasField(*message, f)) SetDefaultsExplicitly(r->MutableMessage(message, f));
      continue;
    }
    if (r->HasField(*message, f) || f->containing_oneof() != nullptr) continue;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: r->SetInt32(message, f, f->default_value_int32()); break;
      case FieldDescriptor::CPPTYPE_INT64: r->SetInt64(message, f, f->default_value_int64()); break;
      case FieldDescriptor::CPPTYPE_UINT32: r->SetUInt32(message, f, f->default_value_uint32()); break;
      case FieldDescriptor::CPPTYPE_UINT64: r->SetUInt64(message, f, f->default_value_uint64()); break;
      case FieldDescriptor::CPPTYPE_DOUBLE: r->SetDouble(message, f, f->default_value_double()); break;
      case FieldDescriptor::CPPTYPE_FLOAT: r->SetFloat(message, f, f->default_value_float()); break;
      case FieldDescriptor::CPPTYPE_BOOL: r->SetBool(message, f, f->default_value_bool()); break;
      case FieldDescriptor::CPPTYPE_ENUM: r->SetEnum(message, f, f->default_value_enum()); break;
      case FieldDescriptor::CPPTYPE_STRING: r->SetString(message, f, f->default_value_string()); break;
      case FieldDescriptor::CPPTYPE_MESSAGE: break;
    }
  }
}

std::string ToJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, opts).ok()) return "{}";
  return json;
}

google::protobuf::Value JsonNumber(double v) {
  google::protobuf::Value x;
  x.set_number_value(v);
  return x;
}

google::protobuf::Value JsonText(const std::string& v) {
  google::protobuf::Value x;
  x.set_string_value(v);
  return x;
}

google::protobuf::Value JsonList(const std::vector<double>& v) {
  google::protobuf::Value x;
  google::protobuf::ListValue* list = x.mutable_list_value();
  for (double d : v) list->add_values()->set_number_value(d);
  return x;
}

google::protobuf::Value JsonMatrix(const int64_t* data, int64_t rows, int64_t cols) {
  google::protobuf::Value x;
  google::protobuf::ListValue* list = x.mutable_list_value();
  for (int64_t r = 0; r < rows; ++r) {
    google::protobuf::ListValue* row = list->add_values()->mutable_list_value();
    for (int64_t c = 0; c < cols; ++c) {
      row->add_values()->set_number_value(static_cast<double>(data[r * cols + c]));
    }
  }
  return x;
}

google::protobuf::Map<std::string, google::protobuf::Value>& JsonObject(
    google::protobuf::Struct* object, const std::string& key) {
  return *(*object->mutable_fields())[key].mutable_struct_value()->mutable_fields();
}

}  // namespace spat
