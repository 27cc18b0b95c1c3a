/**
 * Errors of the Rego engine, shaped like OPA's error bodies so the sidecar can return them
 * as OPA does: `{ code, message, errors: [{ code, message, location }] }`.
 */
export type RegoErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_type_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'eval_type_error'
  | 'eval_builtin_error'
  | 'eval_conflict_error'
  | 'eval_cancel_error'
  | 'eval_internal_error'
  | 'invalid_parameter'
  | 'internal_error'
  /** A residual query outside what a data-filtering target can express (EOPA's code). */
  | 'pe_fragment_error'
  /** A construct the partial evaluator does not handle over unknowns. */
  | 'pe_unsupported_error';

export interface RegoLocation {
  readonly file?: string;
  readonly row: number;
  readonly col: number;
}

export interface RegoErrorDetail {
  readonly code: RegoErrorCode;
  readonly message: string;
  readonly location?: RegoLocation;
}

export class RegoError extends Error {
  override name = 'RegoError';
  readonly code: RegoErrorCode;
  readonly location?: RegoLocation;
  /** Individual errors (compile errors come several at a time); at least this one. */
  readonly errors: readonly RegoErrorDetail[];
  /**
   * Halting errors are raised even when built-in errors are not strict (OPA's topdown.Halt),
   * e.g. errors the built-in itself must surface.
   */
  readonly halt: boolean;

  constructor(
    code: RegoErrorCode,
    message: string,
    opts: { location?: RegoLocation; errors?: readonly RegoErrorDetail[]; halt?: boolean } = {},
  ) {
    super(message);
    this.code = code;
    this.location = opts.location;
    this.errors = opts.errors ?? [{ code, message, location: opts.location }];
    this.halt = opts.halt ?? false;
  }

  /**
   * OPA's textual form (topdown.Error.Error): `file:row: code: message`, or `row:col: ...`
   * without a file, or `code: message` without a location. Compliance cases' want_error
   * is a substring of this form.
   */
  override toString(): string {
    const l = this.location;
    const loc = l ? (l.file ? `${l.file}:${l.row}: ` : `${l.row}:${l.col}: `) : '';
    return `${loc}${this.code}: ${this.message}`;
  }

  /** Copy with a location (evaluator adds the call site to a built-in's error). */
  withLocation(location: RegoLocation): RegoError {
    return new RegoError(this.code, this.message, {
      location,
      errors: this.errors.map((e) => ({ ...e, location: e.location ?? location })),
      halt: this.halt,
    });
  }
}
