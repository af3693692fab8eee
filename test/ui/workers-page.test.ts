/** Pure: the Workers page's grouping by site. */
import { describe, expect, it } from 'vitest';
import type { Worker } from '../../src/db/schema.js';
import { bySite } from '../../src/http/ui/pages/workers.js';

const w = (guid: string, site: number | null) => ({ worker_guid: guid, site_id: site }) as Worker;

describe('bySite', () => {
  it('groups workers by site in site-name order, site-less last, keeping row order within a site', () => {
    const names = new Map([
      [1, 'south'],
      [2, 'north'],
    ]);
    const groups = bySite([w('a', 1), w('b', null), w('c', 2), w('d', 1), w('e', 9)], names);
    expect(groups.map((g) => [g.name, g.rows.map((r) => r.worker_guid)])).toEqual([
      ['north', ['c']],
      ['site 9', ['e']],
      ['south', ['a', 'd']],
      ['no site', ['b']],
    ]);
  });
});
