// The extension module mapfs._mapfs (docs/python.md).
#include "module_internal.h"

PYBIND11_MODULE(_mapfs, m) {
  m.doc() = "Typed mapped files: zero-copy views, builds, typed and shared arrays.";
  mapfs::python::RegisterErrors(m);
  mapfs::python::RegisterSchema(m);
  mapfs::python::RegisterRead(m);
  mapfs::python::RegisterBuild(m);
  mapfs::python::RegisterDatasetRead(m);
  mapfs::python::RegisterArrays(m);
}
