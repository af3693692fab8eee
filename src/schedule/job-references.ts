/**
 * What a job definition names in the database, checked when the job is created: every site,
 * device filter and credential must exist, and a credential that belongs to a site may only be
 * used by a job whose targets are all on that site (a credential without a site is usable
 * everywhere). Hostnames not known yet are only a warning: devices may enrol after the job exists.
 * The worker checks the credential's site again for every item it runs (executors/credentials.ts).
 */
import type { Store } from '../db/open.js';
import { findAnsiblePlaybook, NOT_INSTALLED } from '../executors/ansible/tool.js';
import type { JobDefinition } from './job-definition.js';

export interface ReferenceCheck {
  problems: string[];
  warnings: string[];
}

type References = Pick<JobDefinition, 'targets' | 'credential_id'> & { components?: readonly unknown[] };

export async function checkJobReferences(store: Store, d: References): Promise<ReferenceCheck> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const sites = unique(d.targets.sites ?? []);
  const filters = unique(d.targets.filters ?? []);
  const hostnames = unique(d.targets.hostnames ?? []);

  if (sites.length > 0) {
    const found = new Set<number>();
    for (const part of chunks(sites)) for (const r of await store.db.selectFrom('sites').select('id').where('id', 'in', part).execute()) found.add(r.id);
    for (const id of sites) if (!found.has(id)) problems.push(`targets.sites: no site with id ${id}`);
  }
  if (filters.length > 0) {
    const found = new Set<number>();
    for (const part of chunks(filters)) for (const r of await store.db.selectFrom('device_filters').select('id').where('id', 'in', part).execute()) found.add(r.id);
    for (const id of filters) if (!found.has(id)) problems.push(`targets.filters: no device filter with id ${id}`);
  }
  const hostSites = new Map<string, number>();
  if (hostnames.length > 0) {
    const known = new Set<string>();
    for (const part of chunks(hostnames.map((h) => h.toLowerCase()))) {
      const rows = await store.db.selectFrom('devices').select('hostname_lower').where('hostname_lower', 'in', part).execute();
      for (const r of rows) known.add(r.hostname_lower);
    }
    for (const h of hostnames) {
      if (!known.has(h.toLowerCase())) {
        warnings.push(`targets.hostnames: no device named ${JSON.stringify(h)} is known yet; the job targets it once it enrols`);
      }
    }
    for (const part of chunks(hostnames)) {
      const rows = await store.db.selectFrom('device_sites').select(['device_hostname', 'site_id']).where('device_hostname', 'in', part).execute();
      for (const r of rows) hostSites.set(r.device_hostname, r.site_id);
    }
  }

  // Playbooks run where this process runs (the worker): say so now rather than at the first occurrence.
  const playbook = (d.components ?? []).findIndex((c) => (c as { kind?: unknown } | null)?.kind === 'ansible_playbook');
  if (playbook >= 0 && findAnsiblePlaybook() === null) {
    warnings.push(`components.${playbook}.kind: ${NOT_INSTALLED} on this host (install Debian's ansible-core); the component fails until it is`);
  }

  if (d.credential_id !== null) {
    const credential = await store.db.selectFrom('credentials').select(['id', 'name', 'site_id']).where('id', '=', d.credential_id).executeTakeFirst();
    if (!credential) {
      problems.push(`credential_id: no credential with id ${d.credential_id}`);
    } else if (credential.site_id !== null) {
      const targeted = new Set<number>([...sites, ...hostSites.values()]);
      if (filters.length > 0) {
        for (const part of chunks(filters)) {
          for (const r of await store.db.selectFrom('device_filter_sites').select('site_id').where('filter_id', 'in', part).execute()) targeted.add(r.site_id);
        }
      }
      const scopeSite = d.targets.onboarding_scope?.site_id;
      if (typeof scopeSite === 'number') targeted.add(scopeSite);
      const others = [...targeted].filter((s) => s !== credential.site_id).sort((a, b) => a - b);
      if (others.length > 0) {
        problems.push(
          `credential_id: credential ${credential.id} (${JSON.stringify(credential.name)}) belongs to site ${credential.site_id} ` +
            `but the job targets site ${others.join(', ')}; use a credential of that site or one without a site`,
        );
      }
    }
  }
  return { problems, warnings };
}

/** Ids per IN list: far inside both backends' bound-parameter limits. */
function chunks<T>(values: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
