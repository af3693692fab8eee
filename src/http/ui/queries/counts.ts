/** Capped counts moved to src/db/capped-count.ts; re-exported for the pages' remaining queries. */
export { countCapped } from '../../../db/capped-count.js';
