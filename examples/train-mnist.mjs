// Train the 3-layer MNIST CNN and print its test accuracy.
// node examples/train-mnist.mjs [data-dir]   (or set CONVKIT_DATA)
import { Adam, data, stepDecay, zooModel } from 'convkit';

const mnist = await data.loadDataset('mnist', { dataDir: process.argv[2] });
const model = zooModel('mnist-3layer', { seed: 0 });
const optimizer = new Adam({ learningRate: 0.002, schedule: stepDecay({ every: 1875, factor: 0.5 }) });
await model.fit(mnist.train.x, mnist.train.y, { epochs: 5, batchSize: 32, optimizer });
const { accuracy } = model.evaluate(mnist.test.x, mnist.test.y);
console.log(`test accuracy: ${(accuracy * 100).toFixed(2)}%`);
