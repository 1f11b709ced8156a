// A line-for-line port of TensorFlow.js's `mnist-node` example
// (github.com/tensorflow/tfjs-examples, mnist-node/main.js, model.js and
// data.js, Apache-2.0), where each tfjs call has a convkit equivalent; the
// lines that differ say why in a comment.
//   node examples/ports/tfjs-mnist-node.mjs [data-dir] [--epochs 20] [--batch_size 128] [--model_save_path DIR]
import { parseArgs } from 'node:util';
import { data as datasets, layers, oneHot, sequential } from 'convkit';

// ---- model.js ----
const model = sequential();
model.add(layers.conv2d({
  inputShape: [28, 28, 1],
  filters: 32,
  kernelSize: 3,
  activation: 'relu',
}));
model.add(layers.conv2d({
  filters: 32,
  kernelSize: 3,
  activation: 'relu',
}));
model.add(layers.maxPool2d({ poolSize: [2, 2] }));
model.add(layers.conv2d({
  filters: 64,
  kernelSize: 3,
  activation: 'relu',
}));
model.add(layers.conv2d({
  filters: 64,
  kernelSize: 3,
  activation: 'relu',
}));
model.add(layers.maxPool2d({ poolSize: [2, 2] }));
model.add(layers.flatten());
model.add(layers.dropout({ rate: 0.25 }));
model.add(layers.dense({ units: 512, activation: 'relu' }));
model.add(layers.dropout({ rate: 0.5 }));
model.add(layers.dense({ units: 10, activation: 'softmax' }));

const optimizer = 'rmsprop';
model.compile({
  optimizer: optimizer,
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
});

// ---- data.js ----
// data.js downloads and parses the four IDX files itself; convkit's loader reads
// them from a folder (the first argument or $CONVKIT_DATA) and gives images in
// [0, 1] and integer labels, which tf.oneHot turns into one-hot rows, as there.
const args0 = parseArgs({
  allowPositionals: true,
  options: { epochs: { type: 'string', default: '20' }, batch_size: { type: 'string', default: '128' }, model_save_path: { type: 'string' } },
});
const mnist = await datasets.loadDataset('mnist', { dataDir: args0.positionals[0] });
const data = {
  getTrainData: () => ({ images: mnist.train.x, labels: oneHot(mnist.train.y, 10) }),
  getTestData: () => ({ images: mnist.test.x, labels: oneHot(mnist.test.y, 10) }),
};

// ---- main.js ----
async function main(epochs, batchSize, modelSavePath) {
  const { images: trainImages, labels: trainLabels } = data.getTrainData();
  console.log(model.summary()); // tfjs's summary() prints; convkit's returns the text

  let epochBeginTime;
  let millisPerStep;
  const validationSplit = 0.15;
  const numTrainExamplesPerEpoch =
      trainImages.shape[0] * (1 - validationSplit);
  const numTrainBatchesPerEpoch =
      Math.ceil(numTrainExamplesPerEpoch / batchSize);
  await model.fit(trainImages, trainLabels, {
    epochs,
    batchSize,
    validationSplit,
    verbose: 0, // the callbacks below print, as the source's ProgressBar does
    callbacks: {
      onEpochBegin: async (epoch) => {
        console.log(`Epoch ${epoch + 1} / ${epochs}`);
        epochBeginTime = performance.now(); // tf.util.now()
      },
      onBatchEnd: async (batch, logs) => {
        if (batch === numTrainBatchesPerEpoch - 1) {
          millisPerStep =
              (performance.now() - epochBeginTime) / numTrainExamplesPerEpoch;
        }
      },
      onEpochEnd: async (epoch, logs) => {
        console.log(
            `Loss: ${logs.loss.toFixed(3)} (train), ` +
            `${logs.val_loss.toFixed(3)} (val); ` +
            `Accuracy: ${logs.acc.toFixed(3)} (train), ` +
            `${logs.val_acc.toFixed(3)} (val) ` +
            `(${millisPerStep.toFixed(2)} ms/step)`);
      },
    },
  });

  const { images: testImages, labels: testLabels } = data.getTestData();
  const evalOutput = model.evaluate(testImages, testLabels);

  // tfjs's evaluate returns scalar tensors [loss, accuracy]; convkit's returns the numbers by name.
  console.log(
      `\nEvaluation result:\n` +
      `  Loss = ${evalOutput.loss.toFixed(3)}; ` +
      `Accuracy = ${evalOutput.accuracy.toFixed(3)}`);

  if (modelSavePath != null) {
    // convkit writes its safetensors checkpoint there (model.safetensors), not tfjs's model.json.
    await model.save(`file://${modelSavePath}`);
    console.log(`Saved model to path: ${modelSavePath}`);
  }
}

const args = { epochs: Number(args0.values.epochs), batch_size: Number(args0.values.batch_size), model_save_path: args0.values.model_save_path };

await main(args.epochs, args.batch_size, args.model_save_path);
