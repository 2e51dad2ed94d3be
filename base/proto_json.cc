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
