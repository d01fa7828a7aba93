builtin.module attributes {rnn.weights = "gru-1024-1500.npz"} {
  func.func @main(%X: tensor<1500x1x1024xf32> {rnn.name = "X"}) -> (tensor<1500x1x1x1024xf32> {rnn.name = "Y"}, tensor<1x1x1024xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x3072x1024xf32>
    %R = rnn.weight "R" : tensor<1x3072x1024xf32>
    %B = rnn.weight "B" : tensor<1x6144xf32>
    %Y, %Y_h = rnn.gru %X, %W, %R bias %B {hidden_size = 1024 : i64, linear_before_reset = 1 : i64} : (tensor<1500x1x1024xf32>, tensor<1x3072x1024xf32>, tensor<1x3072x1024xf32>, tensor<1x6144xf32>) -> (tensor<1500x1x1x1024xf32>, tensor<1x1x1024xf32>)
    func.return %Y, %Y_h : tensor<1500x1x1x1024xf32>, tensor<1x1x1024xf32>
  }
}
