// `mapfs shm create|list|info|remove`: manage named shared arrays
// (shm://name or file://path; a bare name means shm://). Output formats are
// documented in docs/arrays.md.
#include <charconv>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "mapfs/shared_array.h"
#include "mapfs/types.h"

namespace mapfs::cli {
namespace {

// "3,4" -> {3, 4}; "" or "()" -> {} (a zero-dimensional array).
Result<std::vector<uint64_t>> ParseShape(const std::string& text) {
  std::vector<uint64_t> shape;
  if (text.empty() || text == "()") return shape;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string_view part(text.data() + pos, (comma == std::string::npos ? text.size() : comma) - pos);
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size()) {
      return Status::InvalidArgument("bad --shape \"" + text +
                                     "\": expected comma-separated sizes such as 3,4");
    }
    shape.push_back(n);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return shape;
}

std::string ShapeText(const std::vector<uint64_t>& shape) {
  if (shape.empty()) return "()";
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(shape[i]);
  }
  return out;
}

Result<DType> ParseDType(const std::string& name) {
  if (name == "float") return DType::kFloat64;
  if (name == "int") return DType::kInt64;
  if (auto d = DTypeFromName(name)) return *d;
  std::string names;
  for (int i = 0; i < kDTypeCount; ++i) {
    names += (i ? ", " : "") + std::string(DTypeName(static_cast<DType>(i)));
  }
  return Status::InvalidArgument("bad --dtype \"" + name + "\": expected one of " + names);
}

struct CreateArgs {
  std::string uri;
  std::string shape;
  std::string dtype = "float64";
};

void RunCreate(const CreateArgs& args) {
  auto shape = ParseShape(args.shape);
  if (!shape.ok()) return Fail(shape.status());
  auto dtype = ParseDType(args.dtype);
  if (!dtype.ok()) return Fail(dtype.status());
  auto a = SharedArray::Create(args.uri, *shape, *dtype);
  if (!a.ok()) return Fail(a.status());
}

void RunList() {
  auto list = SharedArray::List();
  if (!list.ok()) return Fail(list.status());
  for (const SharedArrayInfo& info : *list) {
    std::cout << info.name << "\t" << DTypeName(info.dtype) << "\t" << ShapeText(info.shape)
              << "\n";
  }
}

void RunInfo(const std::string& uri) {
  auto a = SharedArray::Attach(uri, /*read_only=*/true);
  if (!a.ok()) return Fail(a.status());
  std::cout << "uri: " << a->uri() << "\n"
            << "dtype: " << DTypeName(a->dtype()) << "\n"
            << "shape: " << ShapeText(a->shape()) << "\n"
            << "itemsize: " << a->itemsize() << "\n"
            << "elements: " << a->element_count() << "\n"
            << "data_offset: " << a->data_offset() << "\n"
            << "data_size: " << a->data_size() << "\n"
            << "object_size: " << a->object_size() << "\n";
}

void RunRemove(const std::vector<std::string>& uris) {
  for (const std::string& uri : uris) {
    Status st = SharedArray::Remove(uri);
    if (!st.ok()) Fail(st);
  }
}

void Register(CLI::App& app) {
  CLI::App* shm = app.add_subcommand(
      "shm", "Named shared arrays: shm://NAME (POSIX shared memory) or file://PATH");
  shm->require_subcommand(1);

  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = shm->add_subcommand("create", "Create a zero-filled shared array");
  create->add_option("uri", create_args->uri, "shm://NAME or file://PATH")->required();
  create->add_option("--shape", create_args->shape, "Sizes, comma-separated (e.g. 3,4)")
      ->required();
  create->add_option("--dtype", create_args->dtype,
                     "int8..int64, uint8..uint64, float32, float64, bool")
      ->capture_default_str();
  create->callback([create_args] { RunCreate(*create_args); });

  CLI::App* list = shm->add_subcommand("list", "List shm:// arrays: name, dtype, shape");
  list->callback([] { RunList(); });

  auto info_uri = std::make_shared<std::string>();
  CLI::App* info = shm->add_subcommand("info", "Show a shared array's dtype, shape and layout");
  info->add_option("uri", *info_uri, "shm://NAME or file://PATH")->required();
  info->callback([info_uri] { RunInfo(*info_uri); });

  auto remove_uris = std::make_shared<std::vector<std::string>>();
  CLI::App* remove =
      shm->add_subcommand("remove", "Remove shared arrays (attachments stay valid)");
  remove->add_option("uri", *remove_uris, "shm://NAME or file://PATH")->required();
  remove->callback([remove_uris] { RunRemove(*remove_uris); });
}

const RegisterCommand kRegister(Register);

}  // namespace
}  // namespace mapfs::cli
