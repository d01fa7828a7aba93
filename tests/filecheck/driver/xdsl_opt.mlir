// With rnnc installed, plain xdsl-opt knows the rnn dialect through the xdsl.universe entry point.
// RUN: xdsl-opt %s | filecheck %s

func.func @main(%x: tensor<3x2x4xf32>, %w: tensor<1x24x4xf32>, %r: tensor<1x24x8xf32>) -> tensor<1x2x8xf32> {
  %y, %yh = rnn.gru %x, %w, %r {hidden_size = 8 : i64, linear_before_reset = 1 : i64} : (tensor<3x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>) -> (tensor<3x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return %yh : tensor<1x2x8xf32>
}
// CHECK: %y, %yh = rnn.gru %x, %w, %r {hidden_size = 8 : i64, linear_before_reset = 1 : i64} : (tensor<3x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>) -> (tensor<3x1x2x8xf32>, tensor<1x2x8xf32>)

// ...and runs rnnc's passes.
// RUN: xdsl-opt %s -p rnn-decompose,loop-fuse | filecheck %s --check-prefix=PASSES
// PASSES: loop.sequential %t in 3 {
// PASSES: loop.foreach (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 2, 8) par (1, 1, 1) {
// PASSES: loop.reduce add par 1 vec 1

// ...down to a placed, routed and verified design on the default preset, which the spatial
// passes ask their context's architectures for (xdsl-opt's context knows the presets).
// RUN: xdsl-opt %s -p 'rnn-decompose,loop-fuse,spatial-partition{precision=fp32},spatial-place,spatial-route,spatial-verify' | filecheck %s --check-prefix=SPATIAL
// SPATIAL: spatial.design @main #spatial.arch<"plasticine-rnn", "{{[0-9a-f]+}}"> precision "fp32" {
// SPATIAL: spatial.stream @{{[a-z0-9_]+}} {{.*}} paths [(
