// A line-for-line port of PyTorch's "Training a Classifier" tutorial
// (pytorch.org/tutorials/beginner/blitz/cifar10_tutorial.html, BSD-3-Clause),
// where each torch call has a convkit equivalent; the lines that differ say
// why. The figures and image display are left out.
//   node examples/ports/pytorch-cifar10-tutorial.mjs [data-dir]
import { createLoss, data, layers, metrics, SGD, sequential, Tensor } from 'convkit';

// 1. Load and normalize CIFAR10
// torchvision downloads it; convkit reads the folder (the argument or $CONVKIT_DATA) as
// images in [0, 1], and Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)) maps them to [-1, 1].
const cifar = await data.loadDataset('cifar10', { dataDir: process.argv[2] });
const transform = (x) => new Tensor(x.data.map((v) => (v - 0.5) / 0.5), x.shape);
const trainset = { x: transform(cifar.train.x), y: cifar.train.y };
const testset = { x: transform(cifar.test.x), y: cifar.test.y };
const batch_size = 4;

const classes = ['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

// 2. Define a Convolutional Neural Network
// torch's Net.forward is code; in convkit the same network is a list of layers, in NHWC.
// nn.Conv2d and nn.Linear draw their weights and biases so (their reset_parameters); convkit's default differs.
const torch = { kernelInitializer: { name: 'kaimingUniform', a: Math.sqrt(5) }, biasInitializer: { name: 'kaimingUniform', a: Math.sqrt(5) } };
const net = sequential([
  layers.conv2d({ filters: 6, kernelSize: 5, inputShape: [32, 32, 3], ...torch }), // self.conv1 = nn.Conv2d(3, 6, 5)
  layers.relu(), // F.relu
  layers.maxPool2d({ poolSize: 2, strides: 2 }), // self.pool = nn.MaxPool2d(2, 2)
  layers.conv2d({ filters: 16, kernelSize: 5, ...torch }), // self.conv2 = nn.Conv2d(6, 16, 5)
  layers.relu(),
  layers.maxPool2d({ poolSize: 2, strides: 2 }),
  layers.flatten(), // torch.flatten(x, 1)
  layers.dense({ units: 120, activation: 'relu', ...torch }), // self.fc1 = nn.Linear(16 * 5 * 5, 120)
  layers.dense({ units: 84, activation: 'relu', ...torch }), // self.fc2 = nn.Linear(120, 84)
  layers.dense({ units: 10, ...torch }), // self.fc3 = nn.Linear(84, 10)
]);

// 3. Define a Loss function and optimizer
const criterion = createLoss('CrossEntropyLoss', 10);
const optimizer = new SGD({ learningRate: 0.001, momentum: 0.9 });

// 4. Train the network
for (let epoch = 0; epoch < 2; epoch++) { // loop over the dataset multiple times
  let running_loss = 0.0;
  let i = 0;
  // DataLoader(trainset, batch_size=4, shuffle=True)
  for (const { x: inputs, y: labels } of data.miniBatches(trainset.x, trainset.y, batch_size, { shuffle: true, seed: epoch })) {
    // forward + backward (convkit's trainPass writes every gradient afresh: no zero_grad) + optimize
    const loss = net.trainPass(inputs, labels, criterion).loss;
    optimizer.step(net.parameters());

    // print statistics
    running_loss += loss;
    if (i % 2000 === 1999) { // print every 2000 mini-batches
      console.log(`[${epoch + 1}, ${String(i + 1).padStart(5)}] loss: ${(running_loss / 2000).toFixed(3)}`);
      running_loss = 0.0;
    }
    i++;
  }
}

console.log('Finished Training');

const PATH = './cifar_net.safetensors'; // torch.save(net.state_dict(), './cifar_net.pth')
net.save(PATH);

// 5. Test the network on the test data
let correct = 0;
let total = 0;
for (const { x: images, y: labels } of data.miniBatches(testset.x, testset.y, batch_size, { shuffle: false })) {
  const predicted = net.predictClasses(images); // torch.max(outputs.data, 1)
  total += labels.length;
  for (let j = 0; j < labels.length; j++) if (predicted[j] === labels[j]) correct++;
}

console.log(`Accuracy of the network on the ${total} test images: ${Math.floor(100 * correct / total)} %`);

// what are the classes that performed well, and the classes that did not perform well:
const matrix = metrics.confusionMatrix(testset.y, net.predictClasses(testset.x), 10);
for (const c of metrics.perClassAccuracy(matrix, classes)) {
  console.log(`Accuracy for class: ${c.name.padEnd(5)} is ${(100 * c.accuracy).toFixed(1)} %`);
}
