import { describe, expect, it } from 'vitest';
import { curlOf, STEPS, traceStep } from './demo-walk';

describe('curl commands of the demo walk', () => {
  it('quotes a JSON body for the shell, single quotes included', () => {
    const cmd = curlOf({ title: 't', user: 'customer', method: 'POST', path: '/api/x', body: { note: "it's" }, expect: 200, print: true });
    expect(cmd).toBe(`curl -s -X POST localhost:8080/api/x -H "authorization: Bearer $CUSTOMER" -H 'content-type: application/json' -d '{"note":"it'\\''s"}'`);
  });

  it('sends the host of a host-routed product and shows the status of a refusal', () => {
    expect(curlOf({ title: 't', user: 'admin', method: 'GET', path: '/p', host: 'forge.localhost', expect: 403, print: true })).toBe(
      `curl -s -w "\\nHTTP %{http_code}\\n" localhost:8080/p -H "authorization: Bearer $ADMIN" -H 'host: forge.localhost'`,
    );
  });

  it('shows a request landing in the sandbox, one refused by the budget, and the audit trail', () => {
    const printed = STEPS.filter((s) => s.print);
    expect(printed.some((s) => s.user === 'customer' && s.path.endsWith('/execute') && s.expect === 200)).toBe(true);
    expect(printed.some((s) => s.expect === 402)).toBe(true);
    expect(traceStep('c-1').path).toBe('/api/audit/traces/c-1');
  });
});
