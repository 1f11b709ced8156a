import type cliProgress from 'cli-progress';
import { createRequire } from 'node:module';

/** Keras's verbose: 0 silent, 1 a progress bar, 2 one line per epoch. */
export type Verbosity = 0 | 1 | 2;

export interface EpochLine {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  metrics?: Record<string, number>;
  valMetrics?: Record<string, number>;
  /** The rate the epoch's last step used. */
  learningRate?: number;
  seconds: number;
  imagesPerSecond: number;
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

export function formatEpoch(e: EpochLine): string {
  // Accuracy is NaN under a regression loss: the line leaves it out.
  const parts = [`epoch ${e.epoch}/${e.epochs}`, `loss ${e.loss.toFixed(4)}`];
  if (!Number.isNaN(e.accuracy)) parts.push(`accuracy ${pct(e.accuracy)}`);
  for (const [name, value] of Object.entries(e.metrics ?? {})) parts.push(`${name} ${value.toFixed(4)}`);
  if (e.valLoss !== undefined) {
    parts.push(`val_loss ${e.valLoss.toFixed(4)}`);
    if (!Number.isNaN(e.valAccuracy)) parts.push(`val_accuracy ${pct(e.valAccuracy!)}`);
    for (const [name, value] of Object.entries(e.valMetrics ?? {})) parts.push(`val_${name} ${value.toFixed(4)}`);
  }
  if (e.learningRate !== undefined) parts.push(`lr ${Number(e.learningRate.toPrecision(3))}`);
  parts.push(`${e.seconds.toFixed(1)} s`, `${Math.round(e.imagesPerSecond).toLocaleString('en-US')} img/s`);
  return parts.join(' · ');
}

/**
 * Training progress: a bar on a terminal (verbose 1), one line per epoch
 * otherwise (verbose 1 without a TTY, or 2), nothing at verbose 0.
 */
export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly tty: boolean;

  constructor(private readonly verbose: Verbosity, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = verbose === 1 && Boolean(stream.isTTY);
  }

  epochStart(epoch: number, epochs: number, batches: number): void {
    if (!this.tty) return;
    // Loaded on a terminal only: scripts and pipes never pay for it.
    const bars = createRequire(import.meta.url)('cli-progress') as typeof cliProgress;
    this.bar = new bars.SingleBar(
      {
        format: `epoch ${epoch}/${epochs} {bar} {value}/{total} · loss {loss} · acc {acc} · {rate} img/s · eta {eta_formatted}`,
        barsize: 24,
        stream: this.stream,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      bars.Presets.shades_classic,
    );
    this.bar.start(batches, 0, { loss: '-', acc: '-', rate: '-' });
  }

  batch(done: number, loss: number, accuracy: number, imagesPerSecond: number): void {
    if (!this.bar) return;
    // redraws are throttled by cli-progress itself
    this.bar.update(done, { loss: loss.toFixed(4), acc: Number.isNaN(accuracy) ? '-' : pct(accuracy), rate: Math.round(imagesPerSecond).toLocaleString('en-US') });
  }

  epochEnd(line: EpochLine): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
    if (this.verbose > 0) this.stream.write(formatEpoch(line) + '\n');
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
