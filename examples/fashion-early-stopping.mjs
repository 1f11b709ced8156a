// Fashion-MNIST with a validation split and early stopping; prints per-class accuracy.
// node examples/fashion-early-stopping.mjs [data-dir]
import { Adam, data, zooModel } from 'convkit';
import { confusionMatrix, perClassAccuracy, worstClass } from 'convkit/metrics';

const fashion = await data.loadDataset('fashion-mnist', { dataDir: process.argv[2] });
const model = zooModel('mnist-2layer', { seed: 1 });
const history = await model.fit(fashion.train.x, fashion.train.y, {
  epochs: 15,
  batchSize: 64,
  optimizer: new Adam({ learningRate: 0.001 }),
  validation: 0.1,
  earlyStopping: { patience: 2, monitor: 'valLoss' },
});
console.log(`stopped after ${history.loss.length} epochs${history.stoppedEarly ? ' (early)' : ''}`);
const predicted = model.predictClasses(fashion.test.x);
const perClass = perClassAccuracy(confusionMatrix(fashion.test.y, predicted, 10), fashion.classes);
for (const c of perClass) console.log(`${c.name.padEnd(12)} ${(c.accuracy * 100).toFixed(1)}%`);
const worst = worstClass(perClass);
console.log(`test accuracy ${(model.evaluate(fashion.test.x, fashion.test.y).accuracy * 100).toFixed(2)}%; worst class: ${worst.name}`);
