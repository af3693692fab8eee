/** The pure parts of service actions: the allow-list parser and the request check. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseServiceAllowList, refusalReason } from '../../src/services/allow-list.js';
import { checkServiceActionRequest, parseServiceKey } from '../../src/services/service-key.js';

describe('parseServiceAllowList (SERVICE_ACTION_ALLOW)', () => {
  it('reads comma- and whitespace-separated project/service entries, deduplicated and sorted', () => {
    expect([...parseServiceAllowList('myproj/web,myproj/api')]).toEqual(['myproj/api', 'myproj/web']);
    expect([...parseServiceAllowList(' myproj/api , other_1/db.primary\nmyproj/api ')]).toEqual(['myproj/api', 'other_1/db.primary']);
    expect([...parseServiceAllowList('a/b,,c/d,')]).toEqual(['a/b', 'c/d']);
  });

  it('unset or empty allows nothing', () => {
    expect(parseServiceAllowList(undefined).size).toBe(0);
    expect(parseServiceAllowList('').size).toBe(0);
    expect(parseServiceAllowList(' , ').size).toBe(0);
  });

  it('refuses entries that are not <project>/<service>, naming the variable and every bad entry', () => {
    const attempt = () => parseServiceAllowList('myproj/api,api,a/b/c,MyProj/api,/x,p/');
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(
      'SERVICE_ACTION_ALLOW: "api", "a/b/c", "MyProj/api", "/x", "p/" are not <project>/<service>; expected a comma-separated list such as myproj/api,myproj/web',
    );
    expect(() => parseServiceAllowList('x')).toThrow('SERVICE_ACTION_ALLOW: "x" is not <project>/<service>');
  });

  it('refusalReason names the service and the allow-list', () => {
    const allow = parseServiceAllowList('myproj/api,myproj/web');
    expect(refusalReason(allow, 'myproj/api')).toBeUndefined();
    expect(refusalReason(allow, 'myproj/db')).toBe('service myproj/db is not on the allow-list (SERVICE_ACTION_ALLOW: myproj/api, myproj/web)');
    expect(refusalReason(new Set(), 'myproj/db')).toBe(
      'service myproj/db is not on the allow-list: SERVICE_ACTION_ALLOW is empty, so no service may be acted on',
    );
  });
});

describe('checkServiceActionRequest', () => {
  it('accepts restart, stop and start of project/service', () => {
    for (const action of ['restart', 'stop', 'start']) {
      expect(checkServiceActionRequest({ action, service: 'myproj/api' })).toEqual({
        ok: true,
        request: { action, service: 'myproj/api', project: 'myproj', serviceName: 'api' },
      });
    }
    expect(parseServiceKey('my-proj_2/api.v2')).toEqual({ key: 'my-proj_2/api.v2', project: 'my-proj_2', service: 'api.v2' });
  });

  it('names the field and the accepted values', () => {
    expect(checkServiceActionRequest({ action: 'reboot', service: 'myproj/api' })).toEqual({
      ok: false,
      error: 'action: "reboot" is not a service action; expected one of restart, stop, start',
    });
    expect(checkServiceActionRequest({ service: 'myproj/api' })).toEqual({
      ok: false,
      error: 'action: nothing is not a service action; expected one of restart, stop, start',
    });
    expect(checkServiceActionRequest({ action: 'stop', service: 'api' })).toEqual({
      ok: false,
      error: 'service: "api" is not a compose service; expected <project>/<service> as in the compose labels, e.g. myproj/api',
    });
    expect(checkServiceActionRequest({ action: 'stop', service: 7 })).toEqual({
      ok: false,
      error: 'service: got 7; expected <project>/<service> as in the compose labels, e.g. myproj/api',
    });
    expect(checkServiceActionRequest(['restart'])).toEqual({
      ok: false,
      error: 'service action: expected an object { action, service }, got an array',
    });
  });
});
