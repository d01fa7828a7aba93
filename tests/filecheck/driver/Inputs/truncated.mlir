func.func @main(%X: tensor<3x1x2xf32>) -> tensor<3x1x2xf32> {
  func.return %X : tensor<3x1x2xf32>
