import { isolatePrimaryScenario } from './isolate-primary.js';
import { killScenario } from './kill.js';
import { lossyScenario } from './lossy.js';
import { partitionRemediatorScenario } from './partition-remediator.js';
import { pauseScenario } from './pause.js';
import type { Scenario, ScenarioName } from './scenario.js';

export { scenarioNames, type Scenario, type ScenarioName } from './scenario.js';
export { isolatePrimaryScenario, killScenario, lossyScenario, partitionRemediatorScenario, pauseScenario };

/** The scenario of `remediator demo --scenario NAME`, with the durations. */
export function scenarioNamed(name: ScenarioName): Scenario {
  switch (name) {
    case 'kill':
      return killScenario();
    case 'pause':
      return pauseScenario();
    case 'blip':
      return pauseScenario({ blip: true });
    case 'partition-remediator':
      return partitionRemediatorScenario();
    case 'isolate-primary':
      return isolatePrimaryScenario();
    case 'lossy':
      return lossyScenario();
  }
}
