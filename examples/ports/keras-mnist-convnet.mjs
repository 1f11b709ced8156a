// A line-for-line port of Keras's "Simple MNIST convnet"
// (keras.io/examples/vision/mnist_convnet, by fchollet, Apache-2.0): "a simple
// convnet that achieves ~99% test accuracy on MNIST".
//   node examples/ports/keras-mnist-convnet.mjs [data-dir]
import { data, input, layers, sequential, toCategorical } from 'convkit';

// ## Prepare the data

// Model / data parameters
const num_classes = 10;
const input_shape = [28, 28, 1];

// Load the data and split it between train and test sets
// (keras.datasets.mnist downloads; convkit reads a folder: the argument or $CONVKIT_DATA)
const mnist = await data.loadDataset('mnist', { dataDir: process.argv[2] });
let [x_train, y_train, x_test, y_test] = [mnist.train.x, mnist.train.y, mnist.test.x, mnist.test.y];

// Scale images to the [0, 1] range, with shape (28, 28, 1): convkit's loader gives them so already
console.log('x_train shape:', x_train.shape);
console.log(x_train.shape[0], 'train samples');
console.log(x_test.shape[0], 'test samples');

// convert class vectors to binary class matrices
y_train = toCategorical(y_train, num_classes);
y_test = toCategorical(y_test, num_classes);

// ## Build the model

const model = sequential([
  input({ shape: input_shape }),
  layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: 'relu' }),
  layers.maxPool2d({ poolSize: [2, 2] }),
  layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: 'relu' }),
  layers.maxPool2d({ poolSize: [2, 2] }),
  layers.flatten(),
  layers.dropout({ rate: 0.5 }),
  layers.dense({ units: num_classes, activation: 'softmax' }),
]);

console.log(model.summary());

// ## Train the model

const batch_size = 128;
const epochs = 15;

model.compile({ loss: 'categorical_crossentropy', optimizer: 'adam', metrics: ['accuracy'] });

await model.fit(x_train, y_train, { batchSize: batch_size, epochs: epochs, validationSplit: 0.1 });

// ## Evaluate the trained model

const score = model.evaluate(x_test, y_test); // Keras's [loss, accuracy]; convkit names them
console.log('Test loss:', score.loss);
console.log('Test accuracy:', score.accuracy);
