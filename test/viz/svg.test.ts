// The report's SVG charts: tick choice on linear and log scales (property
// tests), and that each chart draws what it is given (one path per series
// with one vertex per finite point, one cell per matrix entry, one bar per
// class), escapes its text and parses as XML.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { barChart, heatmap, lineChart, linearTicks, logTicks } from '../../lib/viz/svg.js';

const runs = { seed: 20261201, numRuns: 200 };

describe('ticks', () => {
  it('linear ticks are round, increasing, inside the range and not too many', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (lo, span) => {
        const hi = lo + span;
        const ticks = linearTicks(lo, hi, 5);
        expect(ticks.length).toBeGreaterThanOrEqual(1);
        expect(ticks.length).toBeLessThanOrEqual(11);
        for (let i = 0; i < ticks.length; i++) {
          expect(ticks[i]).toBeGreaterThanOrEqual(lo - span * 1e-6);
          expect(ticks[i]).toBeLessThanOrEqual(hi + span * 1e-6);
          if (i > 0) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]);
        }
        if (ticks.length > 1) {
          const step = ticks[1] - ticks[0];
          const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
          // The difference of two ticks is exact to a few ulps of their magnitude.
          const tolerance = (8 * Number.EPSILON * Math.max(Math.abs(lo), Math.abs(hi))) / step * mantissa + 1e-9;
          expect([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) <= tolerance)).toBe(true);
        }
      }),
      runs,
    );
  });

  it('integer ticks on an epoch axis', () => {
    expect(linearTicks(1, 3, 6, true)).toEqual([1, 2, 3]);
    expect(linearTicks(1, 40, 6, true).every(Number.isInteger)).toBe(true);
  });

  it('log ticks are powers of ten (with 2 and 5 over few decades) inside the range', () => {
    expect(logTicks(0.15, 2.3)).toEqual([0.2, 0.5, 1, 2]);
    expect(logTicks(0.001, 10)).toEqual([0.001, 0.01, 0.1, 1, 10]);
  });
});

const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

describe('charts', () => {
  it('a line chart draws one path per series through every finite point, and escapes text', () => {
    const svg = lineChart({
      title: 'loss <&> "x"',
      width: 300,
      height: 200,
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        { name: 'train', color: '#00f', points: [[1, 2], [2, 1], [3, NaN], [4, 0.5]], markers: true },
        { name: 'validation', color: '#f80', points: [[1, 3], [2, 2]] },
      ],
    });
    expect(svg).toContain('loss &lt;&amp;&gt; &quot;x&quot;');
    const paths = [...svg.matchAll(/<path class="series" data-name="([^"]+)" d="([^"]+)"/g)];
    expect(paths.map((p) => p[1])).toEqual(['train', 'validation']);
    expect(count(paths[0][2], /[ML]/g)).toBe(3);
    expect(count(paths[1][2], /[ML]/g)).toBe(2);
    expect(count(svg, /<circle /g)).toBe(3);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('a log-scale chart leaves out values that are not positive', () => {
    const svg = lineChart({ title: 't', width: 200, height: 100, xLabel: 'i', yLabel: 'loss', yScale: 'log', series: [{ name: 'a', color: '#000', points: [[1, 1], [2, 0], [3, 0.1]] }] });
    expect(count(svg.match(/<path class="series"[^>]*d="([^"]+)"/)![1], /[ML]/g)).toBe(2);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('a heat map has a cell and a count per entry; a bar chart a bar per class', () => {
    const m = heatmap({ title: 'cm', rows: ['a', 'b'], columns: ['a', 'b'], rates: [[1, 0], [0.25, 0.75]], text: [['4', '0'], ['1', '3']], xLabel: 'p', yLabel: 't' });
    expect(count(m, /<rect x=/g)).toBe(4);
    expect(m).toMatch(/fill="white">4<\/text>/);
    const b = barChart({ title: 'acc', labels: ['0', '1', '2'], values: [1, 0.5, 0], width: 120, height: 80, xLabel: 'class', yLabel: 'accuracy' });
    expect(count(b, /<rect class="bar"/g)).toBe(3);
  });

  it('makes the canvas wide enough for a long title', () => {
    const svg = heatmap({ title: 'x'.repeat(80), rows: ['a'], columns: ['a'], rates: [[1]], text: [['1']], xLabel: 'p', yLabel: 't' });
    expect(Number(svg.match(/width="(\d+)"/)![1])).toBeGreaterThan(80 * 13 * 0.6);
  });
});
