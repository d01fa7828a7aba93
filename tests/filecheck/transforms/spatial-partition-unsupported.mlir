// A view rnn-decompose cannot fold into indexing (this reshape splits the hidden axis: its
// index would need a division) stays at tensor level. The partition names it once, as what
// it is; the driver does not search other design points for it.
// RUN: not rnnc %s --precision fp32 -o %t.json 2>&1 | filecheck %s

func.func @main(%X: tensor<3x1x2xf32> {rnn.name = "X"}, %W: tensor<1x4x2xf32> {rnn.name = "W"}, %R: tensor<1x4x4xf32> {rnn.name = "R"}) -> (tensor<3x2x2xf32> {rnn.name = "Y"}) {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<3x1x2xf32>, tensor<1x4x2xf32>, tensor<1x4x4xf32>) -> (tensor<3x1x1x4xf32>, tensor<1x1x4xf32>)
  %split = rnn.reshape %Y : tensor<3x1x1x4xf32> -> tensor<3x2x2xf32>
  func.return %split : tensor<3x2x2xf32>
}
// CHECK-NOT: design point
// CHECK: spatial-partition-unsupported.mlir: error: spatial-partition: unsupported op rnn.reshape (tensor<3x1x1x4xf32> -> tensor<3x2x2xf32>) at tensor level in @main: the partition takes loop nests over memories, and rnn-decompose folds only the transposes, reshapes and concats that relabel a whole input or result of a layer
// CHECK-NOT: error
