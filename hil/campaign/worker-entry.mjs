// The piscina worker's entry: worker threads do not inherit the main thread's tsx
// loader hooks (and under vitest there are none), so the worker registers tsx itself
// before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
const { runCampaignPass } = await import('./worker.ts');

export default runCampaignPass;
