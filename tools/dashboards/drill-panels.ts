import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import {
  instantQuery,
  lastValue,
  rangeQuery,
  stackedCounts,
  thresholds,
  valueMappings,
  withQueries,
  type GrafanaDashboardBuilder,
} from './dashboard-kit.js';

/** remediator_drill_last_outcome as one number per drill: 0 none yet, then the outcomes in the order of this list. */
const outcomeCodes = ['succeeded', 'failed', 'skipped', 'missed'] as const;
const outcomeColors: Record<(typeof outcomeCodes)[number], string> = {
  succeeded: 'green',
  failed: 'red',
  skipped: 'orange',
  missed: 'orange',
};

/** A stat per drill, named after its cluster and drill, for one value of `remediator_drill_*`. */
const perDrillStat = (title: string, description: string, span: number): StatPanel =>
  new StatPanel()
    .title(title)
    .description(description)
    .reduceOptions(lastValue())
    .textMode(common.BigValueTextMode.ValueAndName)
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .span(span)
    .height(5);

const legend = '{{cluster}} {{drill}}';
/** `time() - 0` before a drill's first run (the gauge is 0 then): any age above 10⁹ s (31 years) can only be that. */
const neverSeconds = 1e9;

/**
 * The failover drills (remediations/drills.yaml, docs/drills.md): per drill, the time since its last success against
 * its period (RemediatorDrillOverdue at 100 %), the RTO its last success measured, how its last occurrence ended, and
 * its outcomes over time. Every replica shows the same values (read from Redis), hence `max by`. `cluster` is the
 * dashboard's cluster matcher, e.g. `cluster=~"$cluster"`.
 */
export function withDrillRow(builder: GrafanaDashboardBuilder, cluster: string): GrafanaDashboardBuilder {
  const byDrill = (metric: string, matchers = cluster) => `max by (drill, cluster) (${metric}{${matchers}})`;
  builder.withRow(new dashboard.RowBuilder('Drills'));
  builder.withPanel(
    withQueries(
      perDrillStat(
        'Since the last successful drill',
        'Per drill: how long since its last successful run (before any, since it was first scheduled). The next panel compares it with the drill period (RemediatorDrillOverdue from 100 %, after 5 minutes).',
        6,
      )
        .unit('s')
        .decimals(0)
        .colorMode(common.BigValueColorMode.Value),
      instantQuery(`time() - ${byDrill('remediator_drill_last_success_timestamp_seconds')}`, legend),
    ),
  );
  builder.withPanel(
    withQueries(
      perDrillStat('Of its period', 'The time since the last success as a share of the drill period: over 100 % the drill is overdue.', 4)
        .unit('percentunit')
        .decimals(0)
        .thresholds(thresholds('green', [0.5, 'orange'], [1, 'red'])),
      instantQuery(
        `(time() - ${byDrill('remediator_drill_last_success_timestamp_seconds')}) / ${byDrill('remediator_drill_period_seconds')}`,
        legend,
      ),
    ),
  );
  builder.withPanel(
    withQueries(
      perDrillStat(
        'Since the last drill run',
        'Per drill: how long since its last run ended, whatever its outcome; never before its first run. Much longer than the schedule: its occurrences are missed.',
        4,
      )
        .unit('s')
        .mappings([
          {
            type: dashboard.MappingType.RangeToText,
            options: { from: neverSeconds, to: null, result: { text: 'never', color: 'text', index: 0 } },
          },
        ])
        .decimals(0)
        .colorMode(common.BigValueColorMode.Value),
      instantQuery(`time() - ${byDrill('remediator_drill_last_run_timestamp_seconds')}`, legend),
    ),
  );
  builder.withPanel(
    withQueries(
      perDrillStat(
        'Last drill RTO',
        "The RTO the last successful drill measured: from writes stopping on the old primary to the new primary's first accepted write (the switchover's writePauseMs).",
        4,
      )
        .unit('s')
        .mappings([
          {
            type: dashboard.MappingType.SpecialValue,
            options: { match: dashboard.SpecialValueMatch.NotANumber, result: { text: 'none yet', index: 0 } },
          },
        ])
        .decimals(3)
        .colorMode(common.BigValueColorMode.Value),
      instantQuery(byDrill('remediator_drill_rto_seconds'), legend),
    ),
  );
  builder.withPanel(
    withQueries(
      perDrillStat(
        'Last drill outcome',
        "How each drill's last occurrence ended: succeeded, failed, skipped (its run did not act: a hold, a refused switchover, a dry run) or missed (refused its whole window: a hold, a pause, an open alert).",
        6,
      ).mappings(
        valueMappings({
          0: { text: 'none yet', color: 'text' },
          ...Object.fromEntries(outcomeCodes.map((outcome, index) => [index + 1, { text: outcome, color: outcomeColors[outcome] }])),
        }),
      ),
      instantQuery(
        outcomeCodes
          .map((outcome, index) => `${byDrill('remediator_drill_last_outcome', `${cluster}, outcome="${outcome}"`)} * ${index + 1}`)
          .join(' + '),
        legend,
      ),
    ),
  );
  builder.withPanel(
    withQueries(
      stackedCounts('Drill occurrences by outcome')
        .description('succeeded, failed and skipped runs of the drills, and missed occurrences (refused their whole window).')
        .overrideByName('succeeded', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'green' } }])
        .overrideByName('failed', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }])
        .overrideByName('skipped', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'orange' } }])
        .overrideByName('missed', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'purple' } }])
        .span(24),
      // The same counts on every replica: the max per drill and outcome, then the sum over the drills.
      rangeQuery(
        `sum by (outcome) (max by (drill, cluster, outcome) (increase(remediator_drill_runs_total{${cluster}}[$__interval])))`,
        '{{outcome}}',
      ),
    ),
  );
  return builder;
}
