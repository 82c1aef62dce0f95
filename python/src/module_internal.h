// Shared declarations of the extension's source files: each file registers
// its part of the module.
#ifndef MAPFS_PYTHON_MODULE_INTERNAL_H_
#define MAPFS_PYTHON_MODULE_INTERNAL_H_

#include <pybind11/pybind11.h>

namespace mapfs::python {

// TypedArray and the shared-array functions (arrays.cc).
void RegisterArrays(pybind11::module_& m);

}  // namespace mapfs::python

#endif  // MAPFS_PYTHON_MODULE_INTERNAL_H_
