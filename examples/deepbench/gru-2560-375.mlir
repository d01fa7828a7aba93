builtin.module attributes {rnn.weights = "gru-2560-375.npz"} {
  func.func @main(%X: tensor<375x1x2560xf32> {rnn.name = "X"}) -> (tensor<375x1x1x2560xf32> {rnn.name = "Y"}, tensor<1x1x2560xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x7680x2560xf32>
    %R = rnn.weight "R" : tensor<1x7680x2560xf32>
    %B = rnn.weight "B" : tensor<1x15360xf32>
    %Y, %Y_h = rnn.gru %X, %W, %R bias %B {hidden_size = 2560 : i64, linear_before_reset = 1 : i64} : (tensor<375x1x2560xf32>, tensor<1x7680x2560xf32>, tensor<1x7680x2560xf32>, tensor<1x15360xf32>) -> (tensor<375x1x1x2560xf32>, tensor<1x1x2560xf32>)
    func.return %Y, %Y_h : tensor<375x1x1x2560xf32>, tensor<1x1x2560xf32>
  }
}
