builtin.module attributes {rnn.weights = "lstm-512-25.npz"} {
  func.func @main(%X: tensor<25x1x512xf32> {rnn.name = "X"}) -> (tensor<25x1x1x512xf32> {rnn.name = "Y"}, tensor<1x1x512xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x2048x512xf32>
    %R = rnn.weight "R" : tensor<1x2048x512xf32>
    %B = rnn.weight "B" : tensor<1x4096xf32>
    %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R bias %B {hidden_size = 512 : i64} : (tensor<25x1x512xf32>, tensor<1x2048x512xf32>, tensor<1x2048x512xf32>, tensor<1x4096xf32>) -> (tensor<25x1x1x512xf32>, tensor<1x1x512xf32>, tensor<1x1x512xf32>)
    func.return %Y, %Y_h : tensor<25x1x1x512xf32>, tensor<1x1x512xf32>
  }
}
