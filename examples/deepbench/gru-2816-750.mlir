builtin.module attributes {rnn.weights = "gru-2816-750.npz"} {
  func.func @main(%X: tensor<750x1x2816xf32> {rnn.name = "X"}) -> (tensor<750x1x1x2816xf32> {rnn.name = "Y"}, tensor<1x1x2816xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x8448x2816xf32>
    %R = rnn.weight "R" : tensor<1x8448x2816xf32>
    %B = rnn.weight "B" : tensor<1x16896xf32>
    %Y, %Y_h = rnn.gru %X, %W, %R bias %B {hidden_size = 2816 : i64, linear_before_reset = 1 : i64} : (tensor<750x1x2816xf32>, tensor<1x8448x2816xf32>, tensor<1x8448x2816xf32>, tensor<1x16896xf32>) -> (tensor<750x1x1x2816xf32>, tensor<1x1x2816xf32>)
    func.return %Y, %Y_h : tensor<750x1x1x2816xf32>, tensor<1x1x2816xf32>
  }
}
