import { useId, useState, type FormEvent } from 'react';
import { ApiError } from '../api/problem';
import { METHODS, STAGES, type Route } from '../api/types';
import { ErrorMessage } from '../components/ui';

type Field = 'id' | 'product' | 'hosts' | 'path' | 'methods' | 'upstream' | 'sandbox_upstream' | 'strip_prefix' | 'stages' | 'permission' | 'requires_governor' | 'cost' | 'rate_limit.per_minute' | 'rate_limit.per_hour' | 'timeout_ms';

interface FormState {
  id: string;
  product: string;
  hosts: string;
  path: string;
  methods: string[];
  upstream: string;
  sandbox_upstream: string;
  strip_prefix: string;
  stages: string[];
  permission: string;
  requires_governor: boolean;
  cost: string;
  per_minute: string;
  per_hour: string;
  timeout_ms: string;
}

function toForm(r: Partial<Route>): FormState {
  return {
    id: r.id ?? '',
    product: r.product ?? '',
    hosts: (r.hosts ?? []).join(', '),
    path: r.path ?? '',
    methods: r.methods ?? [],
    upstream: r.upstream ?? '',
    sandbox_upstream: r.sandbox_upstream ?? '',
    strip_prefix: r.strip_prefix ?? '',
    stages: r.stages ?? [...STAGES],
    permission: r.permission ?? '',
    requires_governor: r.requires_governor ?? false,
    cost: String(r.cost ?? 0),
    per_minute: r.rate_limit?.per_minute ? String(r.rate_limit.per_minute) : '',
    per_hour: r.rate_limit?.per_hour ? String(r.rate_limit.per_hour) : '',
    timeout_ms: String(r.timeout_ms ?? 30000),
  };
}

/** A number when the text is one; otherwise the text, so that the gateway names the mistake. */
const num = (text: string): number | string => (text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);
const optionalNum = (text: string): number | string | null => (text.trim() === '' ? null : num(text));
const optional = (text: string): string | null => (text.trim() === '' ? null : text.trim());

function toRoute(f: FormState, original: Partial<Route>): Record<string, unknown> {
  return {
    ...original,
    id: f.id.trim(),
    product: optional(f.product),
    hosts: f.hosts.split(',').map((h) => h.trim()).filter(Boolean),
    path: f.path.trim(),
    methods: f.methods,
    upstream: f.upstream.trim(),
    sandbox_upstream: optional(f.sandbox_upstream),
    strip_prefix: optional(f.strip_prefix),
    stages: f.stages,
    permission: f.permission.trim(),
    requires_governor: f.requires_governor,
    cost: num(f.cost),
    rate_limit: { per_minute: optionalNum(f.per_minute), per_hour: optionalNum(f.per_hour) },
    timeout_ms: num(f.timeout_ms),
  };
}

/** `rate_limit.per_minute` stays as is; `hosts[1]` belongs to the hosts field. */
function fieldOf(path: string): string {
  return path.startsWith('rate_limit.') ? path.replace(/\[\d+\]$/, '') : (path.split(/[.[]/)[0] ?? '');
}

/** Edits one route of a draft; the gateway validates, and its messages appear next to the fields. */
export function RouteForm(props: { route: Partial<Route> | null; onSave: (route: Record<string, unknown>) => Promise<void>; onCancel: () => void }) {
  const creating = !props.route?.id;
  const [form, setForm] = useState<FormState>(() => toForm(props.route ?? {}));
  const [errors, setErrors] = useState<Map<string, string[]>>(new Map());
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const uid = useId();

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setForm((f) => ({ ...f, [key]: value }));
  const toggle = (key: 'methods' | 'stages', value: string) => setForm((f) => ({ ...f, [key]: f[key].includes(value) ? f[key].filter((v) => v !== value) : [...f[key], value] }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFailure(undefined);
    setErrors(new Map());
    try {
      await props.onSave(toRoute(form, props.route ?? {}));
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) {
        const map = new Map<string, string[]>();
        for (const fe of err.fieldErrors) map.set(fieldOf(fe.path), [...(map.get(fieldOf(fe.path)) ?? []), fe.message]);
        setErrors(map);
      }
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const fid = (f: Field) => `${uid}-${f}`;
  const errorOf = (f: Field) => {
    const messages = errors.get(f);
    return messages ? (
      <span className="field-error" id={`${fid(f)}-error`}>
        {messages.join('; ')}
      </span>
    ) : null;
  };
  const aria = (f: Field) => (errors.has(f) ? { 'aria-invalid': true, 'aria-describedby': `${fid(f)}-error` } : {});
  const checkboxes = (key: 'methods' | 'stages', legend: string, values: readonly string[]) => (
    <fieldset className={errors.has(key) ? 'invalid' : ''} {...aria(key)}>
      <legend>{legend}</legend>
      {values.map((v) => (
        <label key={v} className="check">
          <input type="checkbox" checked={form[key].includes(v)} onChange={() => toggle(key, v)} /> {v}
        </label>
      ))}
      {errorOf(key)}
    </fieldset>
  );
  const text = (f: Field, key: keyof FormState, label: string, hint?: string, type = 'text') => (
    <div className={`field${errors.has(f) ? ' invalid' : ''}`}>
      <label htmlFor={fid(f)}>{label}</label>
      <input id={fid(f)} name={f} type={type} value={form[key] as string} onChange={(e) => set(key, e.target.value as never)} {...aria(f)} />
      {hint && <span className="hint">{hint}</span>}
      {errorOf(f)}
    </div>
  );
  const unplaced = [...errors.entries()].filter(([f]) => !['id', 'product', 'hosts', 'path', 'methods', 'upstream', 'sandbox_upstream', 'strip_prefix', 'stages', 'permission', 'requires_governor', 'cost', 'rate_limit.per_minute', 'rate_limit.per_hour', 'timeout_ms'].includes(f));

  return (
    <form className="route-form" onSubmit={(e) => void submit(e)} aria-label={creating ? 'New route' : `Edit route ${form.id}`} noValidate>
      <h3>{creating ? 'New route' : `Edit route ${form.id}`}</h3>
      {failure !== undefined && <ErrorMessage error={failure} />}
      {unplaced.map(([f, m]) => (
        <p key={f} className="field-error">
          {f || 'route'}: {m.join('; ')}
        </p>
      ))}
      <div className="grid">
        {creating ? text('id', 'id', 'Route id', 'letters, digits and . _ : -') : null}
        {text('path', 'path', 'Path template', 'e.g. /api/agents/{id}/execute or /api/admin/*')}
        {text('upstream', 'upstream', 'Upstream URL')}
        {text('hosts', 'hosts', 'Hosts', 'comma-separated; empty = any host')}
        {text('product', 'product', 'Product')}
        {text('sandbox_upstream', 'sandbox_upstream', 'Sandbox upstream URL', 'optional')}
        {text('strip_prefix', 'strip_prefix', 'Strip prefix', 'optional, e.g. /api')}
        {text('permission', 'permission', 'Permission', 'empty = public route')}
        {text('cost', 'cost', 'Cost per request', undefined, 'text')}
        {text('rate_limit.per_minute', 'per_minute', 'Rate limit per minute', 'empty = none')}
        {text('rate_limit.per_hour', 'per_hour', 'Rate limit per hour', 'empty = none')}
        {text('timeout_ms', 'timeout_ms', 'Upstream timeout (ms)')}
      </div>
      {checkboxes('methods', 'Methods (none checked = every method)', METHODS)}
      {checkboxes('stages', 'Stages', STAGES)}
      <label className="check">
        <input type="checkbox" checked={form.requires_governor} onChange={(e) => set('requires_governor', e.target.checked)} /> Requires a governor
      </label>
      {errorOf('requires_governor')}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Save to draft
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
