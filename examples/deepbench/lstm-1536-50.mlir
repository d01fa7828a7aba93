builtin.module attributes {rnn.weights = "lstm-1536-50.npz"} {
  func.func @main(%X: tensor<50x1x1536xf32> {rnn.name = "X"}) -> (tensor<50x1x1x1536xf32> {rnn.name = "Y"}, tensor<1x1x1536xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x6144x1536xf32>
    %R = rnn.weight "R" : tensor<1x6144x1536xf32>
    %B = rnn.weight "B" : tensor<1x12288xf32>
    %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R bias %B {hidden_size = 1536 : i64} : (tensor<50x1x1536xf32>, tensor<1x6144x1536xf32>, tensor<1x6144x1536xf32>, tensor<1x12288xf32>) -> (tensor<50x1x1x1536xf32>, tensor<1x1x1536xf32>, tensor<1x1x1536xf32>)
    func.return %Y, %Y_h : tensor<50x1x1x1536xf32>, tensor<1x1x1536xf32>
  }
}
