// spatial-predict writes the cost model's prediction of the routed design on it, from the
// loop level that spatial-partition keeps beside the design; spatial-strip then drops the
// loop level and keeps the design with its prediction. Each pass refuses a module that
// lacks what it works on, with the pass to run first.
// RUN: rnnc gen lstm 16 2 -o %t.mlir
// RUN: rnnc %t.mlir -p 'rnn-decompose,loop-fuse,loop-assign-resources,spatial-partition,spatial-place,spatial-route,spatial-predict' > %t.routed
// RUN: filecheck %s --input-file=%t.routed
// RUN: rnnc %t.routed -p spatial-predict | diff - %t.routed
// RUN: rnnc %t.routed -p spatial-strip | filecheck %s --check-prefix=STRIP
// RUN: rnnc %t.routed -p spatial-strip | rnnc - -p spatial-strip | filecheck %s --check-prefix=STRIP
// RUN: not rnnc %t.routed -p spatial-strip,spatial-predict 2>&1 | filecheck %s --check-prefix=NOLOOP
// RUN: not rnnc %t.mlir -p 'rnn-decompose,loop-fuse,loop-assign-resources,spatial-partition,spatial-predict' 2>&1 | filecheck %s --check-prefix=UNROUTED
// RUN: not rnnc %t.mlir -p 'rnn-decompose,spatial-predict' 2>&1 | filecheck %s --check-prefix=NODESIGN
// RUN: not rnnc %t.mlir -p 'rnn-decompose,spatial-strip' 2>&1 | filecheck %s --check-prefix=NOSTRIP

// CHECK:      func.func @main
// CHECK:        loop.sequential
// CHECK:        } {loop.cost = {cycles_per_step = {{[0-9]+}} : i64
// CHECK:      spatial.design @main
// CHECK:      } {route_rounds = {{{.*}}}, predicted = {cycles_per_step = {{[0-9]+}} : i64, total_cycles = {{[0-9]+}} : i64, time_loop_cycles = {{[0-9]+}} : i64, latency_ms = {{.*}} : f64, bound = "{{.+}}"}}

// STRIP:      builtin.module
// STRIP-NOT:  func.func
// STRIP:      spatial.design @main
// STRIP-NOT:  func.func
// STRIP:      predicted = {cycles_per_step

// NOLOOP:     error: spatial-predict: no time loop beside the design: run spatial-predict before spatial-strip (it reads the loop level)
// UNROUTED:   error: spatial-predict: stream s0 is not routed ({{[0-9]+}} streams are not): run spatial-place and spatial-route first
// NODESIGN:   error: spatial-predict: no spatial.design to predict; run spatial-partition, -place and -route first
// NOSTRIP:    error: spatial-strip: no spatial.design to keep; run spatial-partition first
