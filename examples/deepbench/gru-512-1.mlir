builtin.module attributes {rnn.weights = "gru-512-1.npz"} {
  func.func @main(%X: tensor<1x1x512xf32> {rnn.name = "X"}) -> (tensor<1x1x1x512xf32> {rnn.name = "Y"}, tensor<1x1x512xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x1536x512xf32>
    %R = rnn.weight "R" : tensor<1x1536x512xf32>
    %B = rnn.weight "B" : tensor<1x3072xf32>
    %Y, %Y_h = rnn.gru %X, %W, %R bias %B {hidden_size = 512 : i64, linear_before_reset = 1 : i64} : (tensor<1x1x512xf32>, tensor<1x1536x512xf32>, tensor<1x1536x512xf32>, tensor<1x3072xf32>) -> (tensor<1x1x1x512xf32>, tensor<1x1x512xf32>)
    func.return %Y, %Y_h : tensor<1x1x1x512xf32>, tensor<1x1x512xf32>
  }
}
