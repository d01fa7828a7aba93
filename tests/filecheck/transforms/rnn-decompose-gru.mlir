// rnn-decompose of a GRU (gates z, r, h in W, R and B), both variants of the candidate:
// linear_before_reset = 0 (ONNX default) multiplies r into h before R_h, = 1 (cuDNN) after.
// Numerics of the same models: tests/interpreters/test_loop_property.py (explicit examples).
// RUN: rnnc %s --split-input-file -p rnn-decompose | filecheck %s
// RUN: rnnc %s --split-input-file -p rnn-decompose --print-op-generic | rnnc - --split-input-file | filecheck %s

func.func @main(%X: tensor<5x1x3xf32>, %W: tensor<1x12x3xf32>, %R: tensor<1x12x4xf32>, %B: tensor<1x24xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>) {
  %Y, %Y_h = rnn.gru %X, %W, %R bias %B {hidden_size = 4 : i64}
      : (tensor<5x1x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y, %Y_h : tensor<5x1x1x4xf32>, tensor<1x1x4xf32>
}

// linear_before_reset = 0: every gate's two biases are summed before the time loop.
// CHECK-LABEL: func.func @main
// CHECK-NOT:   rnn.gru
// CHECK:       %bias = loop.alloc : memref<1x12xf32, #loop.space<sram>>
// CHECK-NEXT:  loop.foreach (%d, %j) in (1, 12) par (1, 1) {
// CHECK-NEXT:    %{{.*}} = loop.load %biases[%d, %j] : memref<1x24xf32, #loop.space<sram>>
// CHECK-NEXT:    %{{.*}} = loop.load %biases[%d, %j + 12] : memref<1x24xf32, #loop.space<sram>>
// CHECK:       loop.sequential %t in 5 {
// z and r: W·x, R·h, their sum, the bias, the sigmoid -- five kernels each.
// CHECK:           %{{xw_z[_0-9]*}} = loop.reduce add
// CHECK-NEXT:        loop.load %w[%{{.*}}, %{{[a-z0-9_]+}}, %k] : memref<1x12x3xf32
// CHECK:           %{{hr_z[_0-9]*}} = loop.reduce add
// CHECK:           %{{s_z[_0-9]*}} = loop.add
// CHECK:           %{{a_z[_0-9]*}} = loop.add
// CHECK:           %{{z[_0-9]*}} = loop.sigmoid
// CHECK:           loop.load %w[%{{.*}}, %{{.*}} + 4, %{{.*}}] : memref<1x12x3xf32
// CHECK:           %{{r[_0-9]*}} = loop.sigmoid
// The candidate h (n): W_h·x, then r ∘ h, then R_h·(r ∘ h) reading that buffer.
// CHECK:           %{{xw_n[_0-9]*}} = loop.reduce add
// CHECK-NEXT:        loop.load %w[%{{.*}}, %{{.*}} + 8, %{{.*}}] : memref<1x12x3xf32
// CHECK:           %[[RG:[0-9]+]] = loop.load %r_1[
// CHECK-NEXT:      %[[HV:[0-9]+]] = loop.load %h[
// CHECK-NEXT:      %[[RH:rh[_0-9]*]] = loop.mul %[[RG]], %[[HV]] : f32
// CHECK-NEXT:      loop.store %[[RH]], %rh[
// CHECK:           %{{hr_n[_0-9]*}} = loop.reduce add
// CHECK-NEXT:        loop.load %r[%{{.*}}, %{{.*}} + 8, %{{.*}}] : memref<1x12x4xf32
// CHECK-NEXT:        loop.load %rh[
// CHECK:           %{{s_n[_0-9]*}} = loop.add
// CHECK:           loop.load %bias[%{{.*}}, %{{.*}} + 8] : memref<1x12xf32
// CHECK-NEXT:      %{{a_n[_0-9]*}} = loop.add
// CHECK:           %{{n[_0-9]*}} = loop.tanh
// h' = (1 - z) ∘ n + z ∘ h
// CHECK:           %{{omz[_0-9]*}} = loop.sub
// CHECK:           %{{zn[_0-9]*}} = loop.mul
// CHECK:           %{{zh[_0-9]*}} = loop.mul
// CHECK:           %[[HN:h_new[_0-9]*]] = loop.add
// CHECK-NEXT:      loop.store %[[HN]], %h[
// CHECK-NEXT:      loop.store %[[HN]], %y_h[
// CHECK-NEXT:      loop.store %[[HN]], %y[%t,
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-NOT:   loop.foreach
// CHECK:       loop.to_tensor %y_h

// -----

func.func @main(%X: tensor<5x1x3xf32>, %W: tensor<1x12x3xf32>, %R: tensor<1x12x4xf32>, %B: tensor<1x24xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>) {
  %Y, %Y_h = rnn.gru %X, %W, %R bias %B {hidden_size = 4 : i64, linear_before_reset = 1 : i64}
      : (tensor<5x1x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y, %Y_h : tensor<5x1x1x4xf32>, tensor<1x1x4xf32>
}

// linear_before_reset = 1: only z's and r's biases are summed; r multiplies R_h·h + Rb_h.
// CHECK-LABEL: func.func @main
// CHECK-NOT:   rnn.gru
// CHECK:       %bias = loop.alloc : memref<1x8xf32, #loop.space<sram>>
// CHECK-NEXT:  loop.foreach (%d, %j) in (1, 8) par (1, 1) {
// CHECK-NEXT:    %{{.*}} = loop.load %biases[%d, %j] : memref<1x24xf32, #loop.space<sram>>
// CHECK-NEXT:    %{{.*}} = loop.load %biases[%d, %j + 12] : memref<1x24xf32, #loop.space<sram>>
// CHECK-NOT:   %rh = loop.alloc
// CHECK:       loop.sequential %t in 5 {
// CHECK:           %{{z[_0-9]*}} = loop.sigmoid
// CHECK:           %{{r[_0-9]*}} = loop.sigmoid
// CHECK:           %{{xw_n[_0-9]*}} = loop.reduce add
// CHECK-NEXT:        loop.load %w[%{{.*}}, %{{.*}} + 8, %{{.*}}] : memref<1x12x3xf32
// R_h·h reads h itself, not r ∘ h.
// CHECK:           %{{hr_n[_0-9]*}} = loop.reduce add
// CHECK-NEXT:        loop.load %r[%{{.*}}, %{{.*}} + 8, %{{.*}}] : memref<1x12x4xf32
// CHECK-NEXT:        loop.load %h[
// The two candidate biases apart: Wb_h (offset 8) on W·x, Rb_h (offset 12 + 8) on R·h.
// CHECK:           loop.load %biases[%{{.*}}, %{{.*}} + 8] : memref<1x24xf32
// CHECK-NEXT:      %{{xb_n[_0-9]*}} = loop.add
// CHECK:           loop.load %biases[%{{.*}}, %{{.*}} + 20] : memref<1x24xf32
// CHECK-NEXT:      %{{hb_n[_0-9]*}} = loop.add
// CHECK:           %[[RG:[0-9]+]] = loop.load %r_1[
// CHECK-NEXT:      %[[HB:[0-9]+]] = loop.load %hb_n[
// CHECK-NEXT:      %{{rh_n[_0-9]*}} = loop.mul %[[RG]], %[[HB]] : f32
// CHECK:           %[[XB:[0-9]+]] = loop.load %xb_n[
// CHECK-NEXT:      %[[RHN:[0-9]+]] = loop.load %rh_n[
// CHECK-NEXT:      %{{a_n[_0-9]*}} = loop.add %[[XB]], %[[RHN]] : f32
// CHECK:           %{{n[_0-9]*}} = loop.tanh
// CHECK:           %{{omz[_0-9]*}} = loop.sub
// CHECK:           %[[HN:h_new[_0-9]*]] = loop.add
// CHECK-NEXT:      loop.store %[[HN]], %h[
// CHECK-NEXT:      loop.store %[[HN]], %y_h[
// CHECK-NEXT:      loop.store %[[HN]], %y[%t,
