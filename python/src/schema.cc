// mapfs.Schema (filled in by the build side of the module).
#include "module_internal.h"

namespace mapfs::python {

void RegisterSchema(pybind11::module_&) {}
pybind11::object SchemaToPy(std::shared_ptr<const Schema>) {
  throw pybind11::type_error("mapfs.Schema is not built yet");
}
std::shared_ptr<const Schema> SchemaFromPy(pybind11::handle) {
  throw pybind11::type_error("mapfs.Schema is not built yet");
}

}  // namespace mapfs::python
