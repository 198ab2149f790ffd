/**
 * The self tests' `test`: Playwright's, holding a shared lane slot per test in a run with lanes, as
 * the suite's tests do (e2e/fixtures/target.ts). A self test starts stacks and child runs: it must
 * not run beside a load experiment, which has the machine to itself (helpers/stack/lane-slots.ts).
 */
import { test as base } from '@playwright/test';
import { config } from '../../../helpers/config';
import { LaneSlots } from '../../../helpers/stack/lane-slots';

export { expect } from '@playwright/test';

export const test = base.extend<{ laneSlot: void }, { laneSlots: LaneSlots | undefined }>({
  laneSlots: [async ({}, use) => use(LaneSlots.ofWorker(config())), { scope: 'worker', box: true }],
  laneSlot: [async ({ laneSlots }, use) => (laneSlots ? laneSlots.sharedDuring(use) : use()), { auto: true, box: true }],
});
