/**
 * What a job definition names in the database, checked when the job is created or updated: every
 * site, device filter and credential must exist, and a credential that belongs to a site may only
 * be used by a job whose targets are all on that site (a credential without a site is usable
 * everywhere). Hostnames not known yet are only a warning: devices may enrol after the job exists.
 * The worker checks the credential's site again for every item it runs (src/credentials/provider.ts).
 */
import { findCredentials } from '../credentials/index.js';
import type { Store } from '../db/open.js';
import { findAnsiblePlaybook, NOT_INSTALLED } from '../executors/ansible/tool.js';
import { existingFilterIds, existingSiteIds, knownHostnames, sitesOfFilters, sitesOfHostnames } from '../inventory/index.js';
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
    const found = await existingSiteIds(store, sites);
    for (const id of sites) if (!found.has(id)) problems.push(`targets.sites: no site with id ${id}`);
  }
  if (filters.length > 0) {
    const found = await existingFilterIds(store, filters);
    for (const id of filters) if (!found.has(id)) problems.push(`targets.filters: no device filter with id ${id}`);
  }
  let hostSites = new Map<string, number>();
  if (hostnames.length > 0) {
    const known = await knownHostnames(store, hostnames);
    for (const h of hostnames) {
      if (!known.has(h.toLowerCase())) {
        warnings.push(`targets.hostnames: no device named ${JSON.stringify(h)} is known yet; the job targets it once it enrols`);
      }
    }
    hostSites = await sitesOfHostnames(store, hostnames);
  }

  // Playbooks run where this process runs (the worker): say so now rather than at the first occurrence.
  const playbook = (d.components ?? []).findIndex((c) => (c as { kind?: unknown } | null)?.kind === 'ansible_playbook');
  if (playbook >= 0 && findAnsiblePlaybook() === null) {
    warnings.push(`components.${playbook}.kind: ${NOT_INSTALLED} on this host (install Debian's ansible-core); the component fails until it is`);
  }

  if (d.credential_id !== null) {
    const credential = (await findCredentials(store.db, [d.credential_id])).get(d.credential_id);
    if (!credential) {
      problems.push(`credential_id: no credential with id ${d.credential_id}`);
    } else if (credential.site_id !== null) {
      const targeted = new Set<number>([...sites, ...hostSites.values()]);
      if (filters.length > 0) for (const s of await sitesOfFilters(store, filters)) targeted.add(s);
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

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
