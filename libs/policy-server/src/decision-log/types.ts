/** One decision, in the shape of OPA's decision log events (plugins/logs `EventV1`). */
export interface DecisionLogEntry {
  readonly labels: Readonly<Record<string, string>>;
  readonly decision_id: string;
  readonly trace_id?: string;
  readonly span_id?: string;
  readonly correlation_id?: string;
  /** Slash-separated path of the queried document, e.g. `gateway/authz/decision`. */
  readonly path: string;
  readonly input?: unknown;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  readonly requested_by: string;
  readonly timestamp: string;
  readonly metrics: Readonly<Record<string, number>>;
  /** JSON pointers of the fields removed by masking. */
  readonly erased?: readonly string[];
  /** Paths the mask policy wrote (`upsert`), as OPA lists them. */
  readonly masked?: readonly string[];
  /** Each bundle the deciding revision served, by configured name; `revision` absent when its manifest has none (OPA's omitempty). */
  readonly bundles?: Readonly<Record<string, { readonly revision?: string }>>;
}

/** A sink driven on the request thread (console, tests); the audit queue and remote services run in a worker (DecisionLogShipping). */
export interface DecisionLogSink {
  /** Ships one batch; a rejection counts the batch as failed (it is not retried). */
  send(entries: readonly DecisionLogEntry[]): Promise<void>;
  /** Resolves once everything sent so far has left the process (when the sink buffers itself). */
  flush?(): Promise<void>;
  close(): Promise<void>;
}
