builtin.module attributes {rnn.weights = "lstm-2048-25.npz"} {
  func.func @main(%X: tensor<25x1x2048xf32> {rnn.name = "X"}) -> (tensor<25x1x1x2048xf32> {rnn.name = "Y"}, tensor<1x1x2048xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x8192x2048xf32>
    %R = rnn.weight "R" : tensor<1x8192x2048xf32>
    %B = rnn.weight "B" : tensor<1x16384xf32>
    %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R bias %B {hidden_size = 2048 : i64} : (tensor<25x1x2048xf32>, tensor<1x8192x2048xf32>, tensor<1x8192x2048xf32>, tensor<1x16384xf32>) -> (tensor<25x1x1x2048xf32>, tensor<1x1x2048xf32>, tensor<1x1x2048xf32>)
    func.return %Y, %Y_h : tensor<25x1x1x2048xf32>, tensor<1x1x2048xf32>
  }
}
