/** The scenarios, in the order the demo runs them. */
export const ScenarioIds = [
  'two-styles',
  'payment',
  'buffering',
  'guaranteed-delivery',
  'decoupling',
  'scale',
] as const;
export type ScenarioId = (typeof ScenarioIds)[number];
