import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { CollectorsByKind } from '../../src/exporters/collector.js';
import { createExporter } from '../../src/exporters/create-exporter.js';
import { parseInventorySource, type SecretReader } from '../../src/inventory/load-inventory.js';

/** One series of a Prometheus text exposition. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text format (enough of it for the exporter's gauges: no escaped quotes in label values). */
export function parseMetrics(text: string): ParsedSample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) assert.fail(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((label) => [label[1] ?? '', label[2] ?? '']),
      );
      return { name: match[1] ?? '', labels, value: Number(match[3]) };
    });
}

/** The series of `name` whose labels include `labels`. */
export function series(samples: readonly ParsedSample[], name: string, labels: Record<string, string> = {}): ParsedSample[] {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The value of the only series of `name` matching `labels`; fails when there is none or several. */
export function valueOf(samples: readonly ParsedSample[], name: string, labels: Record<string, string>): number {
  const found = series(samples, name, labels);
  assert.equal(
    found.length,
    1,
    `expected one ${name}${JSON.stringify(labels)}, found ${found.length}:\n${samples.map((sample) => `${sample.name}${JSON.stringify(sample.labels)} ${sample.value}`).join('\n')}`,
  );
  return found[0]?.value ?? Number.NaN;
}

/**
 * An exporter in this process on the inventory `yaml` (secrets from `secret`), with `collectors` and a probe
 * timeout: returns the scrape, parsed. Fails the test when the inventory is invalid.
 */
export function inProcessExporter(
  yaml: string,
  options: { collectors: CollectorsByKind; probeTimeoutMs: number; secret?: SecretReader },
): () => Promise<ParsedSample[]> {
  const inventory = parseInventorySource('inventory.yaml', yaml, options.secret ?? (() => ''));
  if (!inventory.success) assert.fail(JSON.stringify(inventory.problems));
  const registry = new Registry();
  createExporter({
    inventory: inventory.inventory,
    registry,
    collectors: options.collectors,
    probeTimeoutMs: options.probeTimeoutMs,
    logger: pino({ level: 'silent' }),
  });
  return async () => parseMetrics(await registry.metrics());
}
