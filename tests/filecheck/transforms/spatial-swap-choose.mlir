// spatial-swap-choose decides on a routed design (it predicts it both ways with the cost
// model, `tests/backend/test_swap_choose.py`); a design whose loops start on the
// controller's enable is left as it is, and a swap start it cannot predict is an error.
// The design of spatial-swap-start.mlir (not placed or routed):
// RUN: rnnc %S/spatial-swap-start.mlir --arch %S/Inputs/strip.json > %t.unchanged
// RUN: rnnc %S/spatial-swap-start.mlir --arch %S/Inputs/strip.json -p 'spatial-swap-choose' | diff - %t.unchanged
// RUN: not rnnc %S/spatial-swap-start.mlir --arch %S/Inputs/strip.json -p 'spatial-swap-start,spatial-swap-choose' 2>&1 | filecheck %s --check-prefix=UNROUTED
// RUN: echo 'func.func @f() { func.return }' | not rnnc - -p 'spatial-swap-choose' 2>&1 | filecheck %s --check-prefix=NODESIGN

// UNROUTED: error: spatial-swap-choose: stream s0 is not routed (11 streams are not): run spatial-place and spatial-route first
// NODESIGN: error: spatial-swap-choose: no spatial.design; run spatial-partition, -place and -route first
