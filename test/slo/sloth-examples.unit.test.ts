import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { comparable, ourGroups, ruleName, slothGroups, type Group, type SlothFlags } from './sloth-compare.js';

const day = 24 * 3_600_000;
/** examplesgen.sh, which wrote Sloth's examples/_gen, passes --extra-labels cmd=examplesgen.sh. */
const examplesgen: SlothFlags = { extraLabels: { cmd: 'examplesgen.sh' } };

/** Each of Sloth's examples: its input files, the flags Sloth generated it with, and Sloth's output. */
const cases: readonly { name: string; inputs: string[]; flags: SlothFlags; expected: string }[] = [
  { name: 'getting-started', inputs: ['getting-started.yml'], flags: examplesgen, expected: '_gen/getting-started.yml' },
  { name: 'home-wifi', inputs: ['home-wifi.yml'], flags: examplesgen, expected: '_gen/home-wifi.yml' },
  { name: 'raw-home-wifi (sli.raw)', inputs: ['raw-home-wifi.yml'], flags: examplesgen, expected: '_gen/raw-home-wifi.yml' },
  { name: 'kubernetes-apiserver', inputs: ['kubernetes-apiserver.yml'], flags: examplesgen, expected: '_gen/kubernetes-apiserver.yml' },
  { name: 'multifile (several documents)', inputs: ['multifile.yml'], flags: examplesgen, expected: '_gen/multifile.yml' },
  { name: 'no-alerts (both alerts disabled)', inputs: ['no-alerts.yml'], flags: examplesgen, expected: '_gen/no-alerts.yml' },
  {
    name: 'k8s-getting-started (PrometheusServiceLevel)',
    inputs: ['k8s-getting-started.yml'],
    flags: examplesgen,
    expected: '_gen/k8s-getting-started.yml',
  },
  { name: 'k8s-home-wifi', inputs: ['k8s-home-wifi.yml'], flags: examplesgen, expected: '_gen/k8s-home-wifi.yml' },
  { name: 'k8s-multifile', inputs: ['k8s-multifile.yml'], flags: examplesgen, expected: '_gen/k8s-multifile.yml' },
  {
    name: '28d (--default-slo-period 28d)',
    inputs: ['in-base.yaml'],
    flags: { defaultPeriodMs: 28 * day },
    expected: '_gen/out-base-28d.yaml',
  },
  {
    name: '7d with a custom AlertWindows directory (--slo-period-windows-path)',
    inputs: ['in-base.yaml'],
    flags: { defaultPeriodMs: 7 * day, windowsDir: 'windows' },
    expected: '_gen/out-base-custom-windows-7d.yaml',
  },
];

/** sloth_version names the generator: Sloth's version there, `remediator` here (the one label documented as different). */
const withoutVersion = (labels: Record<string, string> | undefined) => {
  const { sloth_version: _version, ...rest } = labels ?? {};
  return rest;
};

function assertSameRules(ours: readonly Group[], sloth: readonly Group[]): void {
  assert.deepEqual(
    ours.map((group) => group.name),
    sloth.map((group) => group.name),
    'the same groups, in the same order',
  );
  ours.forEach((group, g) => {
    const theirs = sloth[g]?.rules ?? [];
    assert.deepEqual(group.rules.map(ruleName), theirs.map(ruleName), `the same rules in ${group.name}`);
    group.rules.forEach((rule, r) => {
      const other = theirs[r];
      assert.ok(other);
      const where = `${group.name} ${ruleName(rule)} (rule ${r})`;
      assert.deepEqual(withoutVersion(rule.labels), withoutVersion(other.labels), `labels of ${where}`);
      assert.deepEqual(rule.annotations, other.annotations, `annotations of ${where}`);
      assert.equal(comparable(rule.expr, 'ours'), comparable(other.expr, 'sloth'), `expression of ${where}`);
    });
  });
}

describe("Sloth's examples, generated from their own files, against Sloth's generated files", () => {
  for (const { name, inputs, flags, expected } of cases) {
    test(`${name}: the same groups, records, alerts, labels and annotations, and the same expressions up to the documented differences`, async () => {
      const ours = (await ourGroups(inputs, flags)) as unknown as Group[];
      assertSameRules(ours, await slothGroups(expected));
    });
  }

  test("sloth_slo_info says how the file was generated: Sloth's mode and spec, and remediator as the version", async () => {
    const info = async (input: string) =>
      (await ourGroups([input], examplesgen)).flatMap((group) => group.rules).find((rule) => ruleName(rule) === 'sloth_slo_info')?.labels;
    assert.deepEqual(
      [await info('getting-started.yml'), await info('k8s-getting-started.yml')].map((labels) => [
        labels?.sloth_mode,
        labels?.sloth_spec,
        labels?.sloth_version,
      ]),
      [
        ['cli-gen-prom', 'prometheus/v1', 'remediator'],
        ['cli-gen-k8s', 'sloth.slok.dev/v1', 'remediator'],
      ],
    );
  });
});
