builtin.module attributes {rnn.weights = "lstm-256-150.npz"} {
  func.func @main(%X: tensor<150x1x256xf32> {rnn.name = "X"}) -> (tensor<150x1x1x256xf32> {rnn.name = "Y"}, tensor<1x1x256xf32> {rnn.name = "Y_h"}) {
    %W = rnn.weight "W" : tensor<1x1024x256xf32>
    %R = rnn.weight "R" : tensor<1x1024x256xf32>
    %B = rnn.weight "B" : tensor<1x2048xf32>
    %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R bias %B {hidden_size = 256 : i64} : (tensor<150x1x256xf32>, tensor<1x1024x256xf32>, tensor<1x1024x256xf32>, tensor<1x2048xf32>) -> (tensor<150x1x1x256xf32>, tensor<1x1x256xf32>, tensor<1x1x256xf32>)
    func.return %Y, %Y_h : tensor<150x1x1x256xf32>, tensor<1x1x256xf32>
  }
}
