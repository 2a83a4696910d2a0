import type { Scenario } from '../scenario';
import type { ScenarioId } from '../scenario-ids';
import { buffering } from './buffering.scenario';
import { decoupling } from './decoupling.scenario';
import { guaranteedDelivery } from './guaranteed-delivery.scenario';
import { payment } from './payment.scenario';
import { scale } from './scale.scenario';
import { twoStyles } from './two-styles.scenario';

/** Every scenario by id; the run order is `ScenarioIds`. */
export const scenarios: Record<ScenarioId, Scenario> = {
  'two-styles': twoStyles,
  payment,
  buffering,
  'guaranteed-delivery': guaranteedDelivery,
  decoupling,
  scale,
};
