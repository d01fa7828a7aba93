builtin.module attributes {rnn.weights = "gru-1536-375.npz"} {
  func.func @main(%X: tensor<375x1x1536xf32> {rnn.name = "X"}) -> (tensor<375x1x1x1536xf32> {rnn.name = "Y"}, tensor<1x1x1536xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x4608x1536xf32>
    %R = rnn.weight "R" : tensor<1x4608x1536xf32>
    %B = rnn.weight "B" : tensor<1x9216xf32>
    %Y, %Y_h = rnn.gru %X, %W, %R bias %B {hidden_size = 1536 : i64, linear_before_reset = 1 : i64} : (tensor<375x1x1536xf32>, tensor<1x4608x1536xf32>, tensor<1x4608x1536xf32>, tensor<1x9216xf32>) -> (tensor<375x1x1x1536xf32>, tensor<1x1x1536xf32>)
    func.return %Y, %Y_h : tensor<375x1x1x1536xf32>, tensor<1x1x1536xf32>
  }
}
