// mapfs.Schema: an immutable schema shared with every segment, record view
// and builder made from it (docs/python.md, "Building"; docs/schema.md).
#include <optional>
#include <string>
#include <utility>

#include "mapfs/schema_yaml.h"
#include "module_internal.h"

namespace mapfs::python {
namespace {

namespace py = pybind11;

// What a mapfs.Schema object holds. The schema is never mutated, so sharing
// it between Python objects and C++ readers needs no locking.
struct PySchema {
  std::shared_ptr<const Schema> schema;
};

std::shared_ptr<const Schema> Share(Result<Schema> loaded) {
  if (!loaded.ok()) ThrowStatus(loaded.status());
  return std::make_shared<const Schema>(std::move(loaded).value());
}

// The path text of a str or os.PathLike; empty optional for anything else.
std::optional<std::string> PathOf(py::handle obj) {
  if (!PyUnicode_Check(obj.ptr()) && !PyObject_HasAttrString(obj.ptr(), "__fspath__")) {
    return std::nullopt;
  }
  PyObject* fs = PyOS_FSPath(obj.ptr());
  if (fs == nullptr) throw py::error_already_set();
  py::object path = py::reinterpret_steal<py::object>(fs);
  if (PyBytes_Check(fs)) return std::string(PyBytes_AS_STRING(fs), PyBytes_GET_SIZE(fs));
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(fs, &n);
  if (s == nullptr) throw py::error_already_set();
  return std::string(s, static_cast<size_t>(n));
}

// Loads a schema YAML file without holding the GIL (it is file I/O).
std::shared_ptr<const Schema> LoadShared(const std::string& file) {
  std::optional<Result<Schema>> loaded;
  {
    py::gil_scoped_release release;
    loaded.emplace(LoadSchemaYaml(file));
  }
  return Share(std::move(*loaded));
}

std::string Repr(const Schema& schema) {
  std::string out = "mapfs.Schema(structs=[";
  for (size_t i = 0; i < schema.structs().size(); ++i) {
    if (i) out += ", ";
    out += py::repr(py::str(schema.structs()[i].name)).cast<std::string>();
  }
  return out + "])";
}

}  // namespace

void RegisterSchema(py::module_& m) {
  py::class_<PySchema>(m, "Schema",
                       "An immutable set of struct definitions (docs/schema.md). Make one with "
                       "Schema.load(path) or Schema.from_yaml(text); segments carry theirs.")
      .def_static(
          "load",
          [](py::handle path) {
            std::optional<std::string> p = PathOf(path);
            if (!p) throw py::type_error("Schema.load: expected a str or os.PathLike path");
            return PySchema{LoadShared(*p)};
          },
          py::arg("path"), "Loads a schema YAML file; errors name FILE:LINE:COL.")
      .def_static(
          "from_yaml",
          [](const std::string& text, const std::string& name) {
            return PySchema{Share(ParseSchemaYaml(text, name))};
          },
          py::arg("text"), py::arg("name") = "<string>",
          "Parses schema YAML text; `name` labels error messages (NAME:LINE:COL).")
      .def("to_yaml", [](const PySchema& s) { return s.schema->ToYaml(); },
           "The schema as canonical YAML (what a mount's @schema shows); loading it gives an "
           "equal schema.")
      .def("to_json", [](const PySchema& s) { return s.schema->ToCanonicalJson(); },
           "The canonical JSON embedded in segment files (docs/schema.md).")
      .def_property_readonly(
          "structs",
          [](const PySchema& s) {
            py::list names;
            for (const StructDef& d : s.schema->structs()) names.append(py::str(d.name));
            return names;
          },
          "The struct names, in schema order.")
      .def(
          "fields",
          [](const PySchema& s, const std::string& struct_name) {
            std::optional<int> index = s.schema->FindStruct(struct_name);
            if (!index) throw py::key_error("no struct '" + struct_name + "' in the schema");
            py::list out;
            for (const Field& f : s.schema->struct_def(*index).fields) {
              out.append(py::make_tuple(py::str(f.name), py::str(s.schema->TypeName(f.type))));
            }
            return out;
          },
          py::arg("struct"),
          "The (name, type text) pairs of a struct's fields, in order; KeyError if unknown.")
      .def("__eq__",
           [](const PySchema& a, py::handle other) -> py::object {
             if (!py::isinstance<PySchema>(other)) {
               return py::reinterpret_borrow<py::object>(Py_NotImplemented);
             }
             const PySchema& b = other.cast<const PySchema&>();
             return py::bool_(a.schema == b.schema ||
                              a.schema->ToCanonicalJson() == b.schema->ToCanonicalJson());
           })
      .def("__hash__",
           [](const PySchema& s) { return py::hash(py::str(s.schema->ToCanonicalJson())); })
      .def("__repr__", [](const PySchema& s) { return Repr(*s.schema); });
}

py::object SchemaToPy(std::shared_ptr<const Schema> schema) {
  return py::cast(PySchema{std::move(schema)});
}

std::shared_ptr<const Schema> SchemaFromPy(py::handle obj) {
  if (py::isinstance<PySchema>(obj)) return obj.cast<const PySchema&>().schema;
  std::optional<std::string> path = PathOf(obj);
  if (!path) {
    throw py::type_error(std::string("expected a mapfs.Schema or the path of a schema YAML, got ") +
                         Py_TYPE(obj.ptr())->tp_name);
  }
  return LoadShared(*path);
}

}  // namespace mapfs::python
