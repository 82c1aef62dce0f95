// The two halves of the module's arrays (docs/python.md, "Arrays"):
// array_typed.cc wraps mapfs::TypedArray as mapfs.TypedArray, array_shared.cc
// wraps mapfs::SharedArray as the functions behind mapfs.shared.
#ifndef MAPFS_PYTHON_ARRAY_INTERNAL_H_
#define MAPFS_PYTHON_ARRAY_INTERNAL_H_

#include "module_internal.h"

namespace mapfs::python {

// mapfs.TypedArray (array.array's API on a mapping).
void RegisterTypedArray(pybind11::module_& m);
// mapfs._mapfs._shared_create/_attach/_delete/_list/_msync/_mlock/_munlock,
// the class of the mappings their numpy arrays keep alive, and MS_ASYNC,
// MS_SYNC, MS_INVALIDATE.
void RegisterSharedArrays(pybind11::module_& m);

}  // namespace mapfs::python

#endif  // MAPFS_PYTHON_ARRAY_INTERNAL_H_
