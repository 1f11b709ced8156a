#!/usr/bin/env node
// The convkit command, on commander: one sub-command per job, each with its
// own options, help and examples; unknown commands and options get commander's
// "did you mean". Exit codes: 0 success, 2 bad usage, 1 failure (one line; the
// stack with --verbose), 130 interrupted. The commands' work lives in cli/*.ts.
import { Command, CommanderError, Option } from 'commander';
import { DATASETS } from './data/datasets.js';
import { OPTIMIZER_NAMES } from './core/defaults.js';
import { VERSION } from './core/version.js';
import { ZOO_NAMES } from './models/zoo.js';
import { DEFAULTS, type Flags, Interrupted, UsageError } from './cli/options.js';

/** commander's camelCase option names back to the flags' --kebab-case ones the commands read. */
function toFlags(options: Record<string, unknown>, globals: Record<string, unknown>): Flags {
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries({ ...globals, ...options })) {
    if (key === 'checkFinite') {
      if (value === false) flags['no-check-finite'] = true;
      continue;
    }
    flags[key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = value;
  }
  return flags as Flags;
}

const runtimeOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('--backend <name>', 'native or reference (default: native when the addon loads)').choices(['native', 'reference']))
    .option('--threads <n>', 'native threads (default: $CONVKIT_NUM_THREADS, else all cores)');

const ttaOption = (what: string) =>
  new Option('--tta <kind>', `test-time augmentation: flip scores each ${what} by the mean logits of it and its mirror (not for digits)`).choices(['none', 'flip']);

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export function program(run: (work: () => Promise<unknown>) => void): Command {
  const root = new Command('convkit')
    .description('train and run convolutional neural networks from Node')
    .version(VERSION, '-v, --version', 'print the version')
    .option('--verbose', 'show the stack trace of an error')
    .helpOption('-h, --help', 'show help (convkit COMMAND --help for a command)')
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run 'convkit --help' or 'convkit COMMAND --help' for usage)")
    .allowExcessArguments(false)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  const globals = () => root.opts();
  const action = (load: () => Promise<(flags: Flags, ...rest: string[]) => unknown>) => async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const positional = args.slice(0, -2).flat().filter((a): a is string => typeof a === 'string');
    run(async () => (await load())(toFlags(cmd.opts(), globals()), ...positional));
  };

  runtimeOptions(
    root
      .command('train')
      .description('train a model on a data set or your own data file and print its test accuracy')
      .option('--model <name>', `zoo model (default ${DEFAULTS.model}): ${ZOO_NAMES.join(', ')}; it takes the data's channels and classes. Or an architecture file (.json: {"layers": [{"kind": "Conv2D", ...}, ...]})`)
      .addOption(new Option('--dataset <name>', `data set (default ${DEFAULTS.dataset})`).choices(DATASETS))
      .option('--data-dir <dir>', "folder with the data set's files (default: $CONVKIT_DATA, the cache, a download, the shipped sample)")
      .option('--data <path>', 'a data set by name (as --dataset), or your data instead: .npz, .h5/.hdf5 (arrays named like x_train/y_train, train_images/train_labels, train_set_x/train_set_y), .csv (a label column), or a folder of .npy or IDX files')
      .option('--test <path>', 'a separate test file for --data (default: the test arrays in --data, else --test-split of it)')
      .option('--test-split <f>', 'fraction of --data held out for testing when it has no test arrays (default 0.2)')
      .option('--resize <size>', "resize the images to SIZE or HxW (area averaging) and build the model for it; zoo models otherwise take their own size")
      .addOption(new Option('--scaler <kind>', 'standardise with the training images\' mean and std: standard (per feature, as scikit-learn) or channel (per channel, as Keras\'s Normalization); saved with the checkpoint, applied by predict and evaluate').choices(['standard', 'channel', 'none']))
      .option('--class-weight <w>', "'balanced' or one weight per class (e.g. 1,3): rarer classes drawn more often (a weighted sampler)")
      .option('--shift <pixels>', 'augment: shift each training image by up to N pixels at random')
      .option('--skip-bad-images', 'with --data of an image folder: leave out images that cannot be decoded (each is named) instead of stopping')
      .option('--flip', 'augment: mirror training images left-right at random (not for digits or letters)')
      .option('--augment <parts>', 'augment with parts joined by commas: crop:N (a random crop of the image padded by N px; crop:N:reflect pads with its reflection), flip, cutout:N (zero an N×N square); instead of --shift and --flip')
      .option('--epochs <n>', `passes over the training set (default ${DEFAULTS.epochs})`)
      .option('--batch-size <n>', `images per step (default ${DEFAULTS.batchSize})`)
      .addOption(new Option('--optimizer <name>', `optimizer (default ${DEFAULTS.optimizer})`).choices(OPTIMIZER_NAMES))
      .option('--lr <rate>', `learning rate (default ${OPTIMIZER_NAMES.map((n) => `${DEFAULTS.learningRate[n]} for ${n}`).join(', ')})`)
      .option('--lr-decay <f>', `with --lr-schedule step: multiply the rate by F after every epoch (default ${DEFAULTS.lrDecay}; 1 keeps it constant)`)
      .addOption(new Option('--lr-schedule <kind>', 'step (--lr-decay per epoch, the default), cosine (half a cosine from --lr to 0 over the run, stepped per batch), onecycle (PyTorch\'s OneCycleLR peaking at --lr) or multistep (×--lr-decay, default 0.1, after each of --milestones; PyTorch\'s MultiStepLR)').choices(['step', 'cosine', 'onecycle', 'multistep']))
      .option('--milestones <epochs>', 'with --lr-schedule multistep: the epochs after which the rate drops, e.g. 30,45')
      .option('--warmup-epochs <n>', 'with --lr-schedule cosine: first raise the rate linearly from near 0 to --lr over N epochs (default 0)')
      .option('--weight-decay <f>', 'L2 weight decay: adds F times each weight to its gradient (default 0)')
      .option('--label-smoothing <f>', "train toward (1 - F) on the true class and F/classes on every class, as torch's CrossEntropyLoss(label_smoothing) (default 0)")
      .addOption(ttaOption('test image'))
      .option('--validation <f>', 'hold out this fraction of the training set for validation (default: none)')
      .option('--limit <n>', 'train on the first N training images only')
      .option('--seed <n>', `seed for weights and shuffling (default ${DEFAULTS.seed})`)
      .option('--out <dir>', 'run directory: checkpoint, optimizer state, history and settings, saved every epoch as one generation')
      .option('--overwrite', 'replace the run an --out directory holds (without it, convkit refuses)')
      .option('--resume <dir>', 'continue a run directory where it stopped (--epochs may extend it)')
      .option('--init <file>', "start from a trained model instead of --model: a convkit checkpoint or run folder, a Keras .h5/.keras, a tfjs model.json or an .onnx; a new final Dense layer replaces the head when the data's classes differ")
      .option('--freeze <layer>', 'with --init: keep the weights of every layer up to and including this one (a name, or an index from 0) as they are; the layers after it train')
      .option('--tensorboard <dir>', 'write TensorBoard event files')
      .option('--report <file>', 'write a self-contained HTML report (and the curves as SVG files)')
      .option('--no-check-finite', 'do not stop when the loss or a gradient turns NaN or infinite')
      .option('--quiet', 'no progress output')
      .option('--json', 'print the results as one JSON object on stdout (the rest goes to stderr)'),
  )
    .addHelpText('after', examples(
      'convkit train',
      'convkit train --data-dir ../shared/data --model mnist-2layer --dataset fashion-mnist --epochs 8 --lr-decay 0.7',
      'convkit train --out runs/a --tensorboard runs/a/tb --report runs/a/report.html',
      'convkit train --resume runs/a --epochs 10',
      'convkit train --init mnist_convnet.h5 --freeze flatten --dataset fashion-mnist --epochs 1',
      'convkit train --data xray.npz --model xray-binary --class-weight balanced --out runs/xray',
      'convkit train --data train_signs.h5 --test test_signs.h5 --model signs-cnn --epochs 60',
      'convkit train --data images.npz --model my-net.json --scaler standard --validation 0.1',
      'convkit train --data cifar10 --model resnet-20 --scaler channel --shift 4 --flip --optimizer momentum --lr 0.1 --weight-decay 5e-4 --batch-size 128',
    ) + '\nCtrl-C finishes the batch, saves a resumable state (to --out, else runs/) and exits 130.\n')
    .action(action(async () => (await import('./cli/train.js')).train));

  runtimeOptions(
    root
      .command('evaluate')
      .description("accuracy of a checkpoint on a data set's test images")
      .requiredOption('--checkpoint <path>', 'a checkpoint file or run directory')
      .addOption(new Option('--dataset <name>', 'data set (default: the one the checkpoint was trained on)').choices(DATASETS))
      .option('--data-dir <dir>', "folder with the data set's files")
      .option('--data <path>', 'evaluate on this data file instead (its test arrays, else all of it)')
      .option('--batch-size <n>', 'images per batch (default 256)')
      .addOption(ttaOption('test image'))
      .option('--quiet', 'no per-class table')
      .option('--json', 'print the results as one JSON object on stdout'),
  )
    .addHelpText('after', examples('convkit evaluate --checkpoint runs/a', 'convkit evaluate --checkpoint runs/a/model.safetensors --data-dir ../shared/data --json'))
    .action(action(async () => (await import('./cli/commands.js')).evaluateCommand));

  runtimeOptions(
    root
      .command('predict')
      .description('class predictions of a checkpoint for images in a file')
      .requiredOption('--checkpoint <path>', 'a checkpoint file or run directory')
      .requiredOption('--input <file>', 'images: .npz or .h5 (the test arrays, else the only ones), .npy, IDX or .csv; bytes are scaled to [0, 1], floats taken as they are; the checkpoint\'s resize and scaler are applied')
      .option('--csv <file>', 'write ID,Label rows there (default: stdout)')
      .option('--probabilities', 'add each class\'s probability (P0, P1, ...; P1 alone for one sigmoid output)')
      .addOption(ttaOption('image'))
      .option('--json', 'print the predictions as JSON on stdout'),
  )
    .addHelpText('after', examples('convkit predict --checkpoint runs/a --input digits.npy --csv predictions.csv', 'convkit predict --checkpoint runs/xray --input xray.npz --csv predictions.csv --probabilities'))
    .action(action(async () => (await import('./cli/commands.js')).predictCommand));

  root
    .command('curves')
    .description('the training curves of a run directory as SVG or PNG files: loss per iteration, loss and accuracy per epoch')
    .argument('<run-dir>', 'a run directory written by convkit train --out')
    .option('--output <dir>', 'where to write them (default: RUN_DIR)')
    .addOption(new Option('--format <format>', 'svg or png (default svg)').choices(['svg', 'png']))
    .addHelpText('after', examples('convkit curves runs/a', 'convkit curves runs/a --format png --output figures'))
    .action(action(async () => (await import('./cli/commands.js')).curvesCommand));

  root
    .command('export')
    .description('a checkpoint as ONNX, NumPy .npz, HDF5, a Keras .h5 or a tfjs LayersModel')
    .requiredOption('--checkpoint <path>', 'a checkpoint file or run directory')
    .requiredOption('--output <file>', 'the file to write; its extension (.onnx, .npz, .h5) gives the format unless --format does')
    .addOption(new Option('--format <format>', "onnx, npz, h5 (convkit's weights by key), keras (an .h5 keras.models.load_model reads) or tfjs (a folder tf.loadLayersModel reads)").choices(['onnx', 'npz', 'h5', 'keras', 'tfjs']))
    .addOption(new Option('--names <mapping>', "keys: the model's names, the courses' (w1, b1, ... or w_conv, ...), or numbered (W1, b1, ...)").choices(['model', 'course', 'numbered']))
    .addHelpText('after', examples('convkit export --checkpoint runs/a --output model.onnx', 'convkit export --checkpoint runs/mlp --output weights.npz --names course', 'convkit export --checkpoint runs/a --format keras --output model.h5', 'convkit export --checkpoint runs/a --format tfjs --output web/model'))
    .action(action(async () => (await import('./cli/commands.js')).exportCommand));

  runtimeOptions(
    root
      .command('report')
      .description('an HTML report for a run directory (curves, confusion matrix, top-3 images, CAMs), or one page comparing several runs or a sweep\'s')
      .argument('<run-dirs...>', 'run directories written by convkit train --out, or a sweep directory')
      .option('--data-dir <dir>', "folder with the data set's files")
      .option('--output <file>', 'the report file (default RUN_DIR/report.html; comparing: SWEEP_DIR/report.html, else comparison.html)')
      .option('--title <text>', 'the comparison\'s title')
      .option('--quiet', 'no progress output'),
  )
    .addHelpText('after', examples('convkit report runs/a', 'convkit report runs/a runs/b runs/c --output comparison.html', 'convkit report sweeps/lr'))
    .action(action(async () => (await import('./cli/commands.js')).reportCommand));

  root
    .command('sweep')
    .description('many training runs (a grid or a list) on this machine\'s cores, or through a queue, with a summary and a comparison report')
    .argument('[file]', 'a sweep file (.json or .yaml): {name, base: {...}, runs: [{...}], grid: {lr: [...], ...}}')
    .requiredOption('--out <dir>', 'the sweep directory: runs/NAME (ordinary run directories), tensorboard/NAME, logs/, summary.json, report.html')
    .option('--model <names>', 'zoo models or architecture files, comma-separated (each a grid value)')
    .option('--dataset <names>', 'data sets, comma-separated')
    .option('--data <paths>', 'data files, comma-separated')
    .option('--optimizer <names>', `optimizers, comma-separated (${OPTIMIZER_NAMES.join(', ')})`)
    .option('--lr <rates>', 'learning rates, comma-separated')
    .option('--lr-decay <factors>', 'per-epoch decays, comma-separated')
    .option('--batch-size <sizes>', 'batch sizes, comma-separated')
    .option('--epochs <counts>', 'epochs, comma-separated')
    .option('--seed <seeds>', 'seeds, comma-separated')
    .option('--limit <counts>', 'training images per run, comma-separated')
    .option('--validation <fractions>', 'validation fractions, comma-separated')
    .option('--test <paths>', 'test files for --data, comma-separated')
    .option('--test-split <fractions>', 'held-out test fractions for --data, comma-separated')
    .option('--resize <sizes>', 'image sizes (SIZE or HxW), comma-separated')
    .option('--scaler <kinds>', 'standard, channel or none, comma-separated')
    .option('--class-weight <w>', "'balanced' (class weights with commas cannot vary on the command line: use a sweep file)")
    .option('--shift <pixels>', 'augmentation shifts, comma-separated')
    .option('--flip', 'augment with left-right flips (every run)')
    .option('--data-dir <dir>', "folder with the data sets' files (every run)")
    .option('--workers <n>', 'runs at once on this machine (default: cores / threads)')
    .option('--threads <n>', 'threads per run (default: cores / workers, at least 1)')
    .option('--queue <url>', 'redis://HOST:PORT: queue the runs for `convkit worker`s (BullMQ) instead of running them here; the sweep directory must be on a file system every worker sees at the same path')
    .option('--name <name>', 'the sweep\'s name (default: the file\'s name, else "sweep")')
    .option('--no-report', 'no comparison report at the end')
    .option('--quiet', 'no progress output')
    .option('--json', 'print summary.json on stdout at the end')
    .addHelpText('after', examples(
      'convkit sweep --out sweeps/lr --lr 0.001,0.003 --batch-size 32,128 --seed 0,1 --epochs 2',
      'convkit sweep course.yaml --out sweeps/course --data-dir ../shared/data',
      'convkit sweep grid.json --out /shared/sweeps/g --queue redis://10.0.0.5:6379',
    ) + '\nCtrl-C asks every running run to save and stop; the same command finishes the sweep without redoing finished runs.\n')
    .action(action(async () => (await import('./cli/sweep.js')).sweepCommand));

  root
    .command('worker')
    .description('take runs from a sweep\'s queue (BullMQ on Redis) and run them, until Ctrl-C')
    .requiredOption('--queue <url>', 'redis://HOST:PORT, as given to convkit sweep')
    .option('--threads <n>', 'threads per run when the sweep does not say (default 1)')
    .option('--quiet', 'no progress output')
    .addHelpText('after', examples('convkit worker --queue redis://10.0.0.5:6379') + '\nNeeds BullMQ: npm install bullmq ioredis. Ctrl-C: the running run saves and goes back to the queue.\n')
    .action(action(async () => (await import('./cli/sweep.js')).workerCommand));

  root
    .command('summary')
    .description("a model's layers, output shapes and parameter counts")
    .option('--model <name>', `zoo model: ${ZOO_NAMES.join(', ')}`)
    .option('--checkpoint <path>', 'a checkpoint file or run directory')
    .addHelpText('after', examples('convkit summary --model lenet5', 'convkit summary --checkpoint runs/a'))
    .action(action(async () => (await import('./cli/commands.js')).summaryCommand));

  runtimeOptions(
    root
      .command('info')
      .description('version, backend, instruction set, threads, OpenMP, which native binary and from where')
      .option('--json', 'print it as JSON'),
  ).action(action(async () => (await import('./cli/commands.js')).infoCommand));

  runtimeOptions(root.command('selftest').description('check the native kernels against the reference backend on this machine'))
    .action(action(async () => (await import('./cli/commands.js')).selftestCommand));

  root
    .command('build')
    .description('compile the native addon here (for platforms without a prebuilt binary)')
    .option('--quiet', 'only errors')
    .action(action(async () => (flags: Flags) => import('./cli/build.js').then((m) => m.buildCommand({ quiet: flags.quiet }))));

  return root;
}

/** Runs convkit with these arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let work: (() => Promise<unknown>) | null = null;
  const root = program((w) => (work = w));
  let output = '';
  root.exitOverride().configureOutput({ writeErr: (s) => (output += s), outputError: (s, write) => write(s) });
  for (const cmd of root.commands) cmd.exitOverride().configureOutput({ writeErr: (s) => (output += s), outputError: (s, write) => write(s) });
  try {
    if (argv.length === 0) {
      process.stdout.write(root.helpInformation());
      return 2;
    }
    await root.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      process.stderr.write(output.replace(/^error: /m, 'convkit: '));
      return 2;
    }
    throw error;
  }
  if (!work) return 0;
  const verbose = Boolean(root.opts().verbose);
  try {
    const code = await (work as () => Promise<unknown>)();
    return typeof code === 'number' ? code : 0;
  } catch (error) {
    if (error instanceof Interrupted) return 130;
    const e = error as Error;
    const usage = error instanceof UsageError;
    process.stderr.write(`convkit: ${usage ? '' : `${e.name === 'Error' ? 'error' : e.name}: `}${e.message}\n`);
    if (usage) process.stderr.write(`run 'convkit --help' for usage\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return usage ? 2 : 1;
  }
}

// A reader that stops early (`convkit train --help | head`, `convkit predict ... | head`)
// closes the pipe: that ends the output, as it ends cat's, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
