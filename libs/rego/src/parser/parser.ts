import { RegoError } from '../errors';
import { parseNumber } from '../value';
import type { Body, Expr, Location, Module, RegoVersion, Rule, Term as T, WithModifier, Import, ElseClause } from '../ast';
import { Term } from '../ast';
import { lex, type Comment } from '../lexer/lex';
import { annotationsAbove, commentRows } from './annotations';
import type { Token } from '../lexer/token';

/** Keywords in every Rego version. */
const BASE_KEYWORDS: readonly string[] = ['else', 'some', 'not', 'with', 'as', 'default', 'import', 'package'];
/** Keywords of v1 that a v0 module has only once it imports them (OPA's futureKeywordsV0). */
const FUTURE_KEYWORDS: readonly string[] = ['contains', 'every', 'if', 'in'];
const V1_KEYWORDS: ReadonlySet<string> = new Set([...BASE_KEYWORDS, ...FUTURE_KEYWORDS]);
/**
 * Nesting of terms and bodies the parser accepts (OPA's max parsing recursion depth, there
 * 100000). Lower here: the parser, the compiler and the evaluator recurse on the JS stack, which
 * holds a few hundred levels of nested comprehensions; past that a policy (say a PUT from a
 * client) would crash compilation instead of failing it.
 */
const MAX_RECURSION_DEPTH = 500;
const RELATIONS: Record<string, string> = { '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' };
const ARITH: Record<string, string> = { '+': 'plus', '-': 'minus' };
const FACTOR: Record<string, string> = { '*': 'mul', '/': 'div', '%': 'rem' };

/**
 * Recursive-descent parser for Rego (OPA v1/ast/parser.go). Newlines end a literal only at
 * body level; inside brackets (`depth > 0`) they are skipped like whitespace.
 *
 * v0 modules (OPA's RegoV0) differ in two ways, both held in fields read where v1 syntax is
 * decided: `keywords` starts without `if`/`contains`/`in`/`every` (imports add them, so before
 * that they are plain names), and `v1Syntax` is off, which lets a body follow a head without
 * `if`, makes `p[x] { … }` a partial set, and admits v0's body-less heads. `import rego.v1`
 * turns both to v1 for the rest of the module, as OPA's RegoV0CompatV1.
 */
export class Parser {
  private pos = 0;
  private depth = 0;
  private wildcard = 0;
  private keywords: Set<string>;
  private v1Syntax: boolean;
  private recursion = 0;
  private readonly v0Module: boolean;
  private readonly toks: Token[];
  private readonly comments: Comment[] = [];
  private commentByRow: Map<number, string> | undefined;
  private rows(): Map<number, string> {
    return (this.commentByRow ??= commentRows(this.comments));
  }

  constructor(
    src: string,
    private readonly file: string,
    wildcardBase = 0,
    regoVersion: RegoVersion = 'v1',
  ) {
    this.toks = lex(src, file, this.comments);
    this.wildcard = wildcardBase;
    this.v0Module = regoVersion === 'v0';
    this.v1Syntax = !this.v0Module;
    this.keywords = new Set(this.v1Syntax ? V1_KEYWORDS : BASE_KEYWORDS);
  }

  /** Runs `f` one level deeper (OPA's enter/leave): too deep is a parse error, not a stack overflow. */
  private enter<R>(f: () => R): R {
    this.recursion++;
    try {
      if (this.recursion > MAX_RECURSION_DEPTH) this.fail('max parsing recursion depth exceeded');
      return f();
    } finally {
      this.recursion--;
    }
  }

  get wildcards(): number {
    return this.wildcard;
  }

  // ---- token helpers -------------------------------------------------------------------
  private raw(): Token {
    return this.toks[this.pos]!;
  }
  private peek(): Token {
    if (this.depth > 0) this.skipNl();
    return this.toks[this.pos]!;
  }
  private skipNl(): void {
    while (this.toks[this.pos]!.kind === 'nl') this.pos++;
  }
  private next(): Token {
    const t = this.peek();
    this.pos++;
    return t;
  }
  private is(text: string, kinds: readonly string[] = ['punct', 'ident']): boolean {
    const t = this.peek();
    return t.text === text && kinds.includes(t.kind);
  }
  private accept(text: string): boolean {
    if (this.is(text)) {
      this.pos++;
      return true;
    }
    return false;
  }
  private expect(text: string): Token {
    const t = this.peek();
    if (t.text !== text || (t.kind !== 'punct' && t.kind !== 'ident')) this.fail(`unexpected ${describe(t, this.keywords)} token: expected ${text}`, t);
    this.pos++;
    return t;
  }
  private loc(t: Token): Location {
    return { file: this.file, row: t.row, col: t.col };
  }
  fail(msg: string, t: Token = this.peek()): never {
    throw new RegoError('rego_parse_error', msg, { location: this.loc(t) });
  }
  /** True when the next raw token starts right where the previous one ended (`a[b]`, `f(x)`). */
  private adjacent(): boolean {
    const prev = this.toks[this.pos - 1];
    const cur = this.toks[this.pos]!;
    return prev !== undefined && prev.end === cur.pos;
  }
  /** `not.foo`, `if.x`: a keyword directly followed by `.`/`[` is a ref head, not a keyword. */
  private refFollows(): boolean {
    const n = this.raw();
    return n.kind === 'punct' && (n.text === '.' || n.text === '[' || n.text === '(') && this.adjacent();
  }
  /** The next token is `text` and `text` is a keyword in this module (so far). */
  private isKw(text: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text === text && this.keywords.has(text);
  }
  private isKeywordHere(text: string): boolean {
    const t = this.peek();
    if (t.kind !== 'ident' || t.text !== text || !this.keywords.has(text)) return false;
    const n = this.toks[this.pos + 1]!;
    return !(n.kind === 'punct' && (n.text === '.' || n.text === '[') && n.pos === t.end);
  }
  private freshWildcard(loc: Location): T {
    return Term.var(`$${this.wildcard++}`, loc);
  }
  private nested<R>(d: number, f: () => R): R {
    const saved = this.depth;
    this.depth = d;
    try {
      return f();
    } finally {
      this.depth = saved;
    }
  }

  // ---- module ---------------------------------------------------------------------------
  parseModule(): Module {
    this.skipNl();
    const pkgTok = this.expect('package');
    const pkgAnn = annotationsAbove(this.rows(), pkgTok.row, 'package', (m) => this.fail(m, pkgTok));
    const pkgRef = this.parseRefTerm();
    const pkg = refToStrings(pkgRef, 'package', (m) => this.fail(m, pkgTok));
    if (pkg[0] === 'data') pkg.shift();
    this.endOfLine();
    const imports: Import[] = [];
    const rules: Rule[] = [];
    for (;;) {
      this.skipNl();
      const t = this.peek();
      if (t.kind === 'eof') break;
      if (this.isKeywordHere('import')) {
        const imp = this.parseImport();
        if (imp) imports.push(imp);
      } else if (this.isKeywordHere('package')) {
        this.fail('unexpected package keyword');
      } else {
        rules.push(...this.parseRule());
      }
      this.endOfLine();
    }
    return { file: this.file, regoVersion: this.v1Syntax ? 'v1' : 'v0', pkg, imports, rules, annotations: pkgAnn };
  }

  private endOfLine(): void {
    const t = this.raw();
    if (t.kind === 'nl' || t.kind === 'eof') return;
    if (t.kind === 'punct' && t.text === ';') {
      this.pos++;
      return;
    }
    this.fail(`unexpected ${describe(t, this.keywords)} token`, t);
  }

  private parseImport(): Import | undefined {
    const t = this.expect('import');
    const path = this.parseRefTerm();
    let alias: string | undefined;
    if (this.accept('as')) {
      const a = this.next();
      if (a.kind !== 'ident') this.fail('expected alias', a);
      alias = a.text;
    }
    const parts = refToStrings(path, 'import', (m) => this.fail(m, t), true);
    if (parts[0] === 'future' || parts[0] === 'rego') {
      if (this.v0Module) this.keywordImport(parts, alias !== undefined, t);
      return undefined;
    }
    if (parts[0] !== 'data' && parts[0] !== 'input') this.fail(`invalid path ${parts.join('.')}: path must begin with input or data`, t);
    return { path, alias: alias ?? parts[parts.length - 1]!, loc: this.loc(t) };
  }

  /**
   * `import future.keywords[.kw]` and `import rego.v1` in a v0 module (OPA's futureImport and
   * regoV1Import): the first makes keywords of v1 keywords here, the second all of them and
   * v1's rule syntax with them. In v1 both are no-ops.
   */
  private keywordImport(parts: readonly string[], aliased: boolean, t: Token): void {
    if (parts[0] === 'rego') {
      if (parts.length !== 2 || parts[1] !== 'v1') this.fail(`invalid import \`${parts.join('.')}\`, must be \`rego.v1\``, t);
      if (aliased) this.fail('`rego` imports cannot be aliased', t);
      for (const k of FUTURE_KEYWORDS) this.keywords.add(k);
      this.v1Syntax = true;
      return;
    }
    if (parts.length === 1 || parts[1] !== 'keywords') this.fail('invalid import, must be `future.keywords`', t);
    if (aliased) this.fail('`future` imports cannot be aliased', t);
    if (parts.length > 3) this.fail('invalid import, must be `future.keywords.x`, e.g. `import future.keywords.in`', t);
    const kw = parts[2];
    if (kw !== undefined && !FUTURE_KEYWORDS.includes(kw)) this.fail(`unexpected keyword, must be one of [${FUTURE_KEYWORDS.join(' ')}]`, t);
    for (const k of kw === undefined ? FUTURE_KEYWORDS : [kw]) this.keywords.add(k);
    // As OPA's scanner: `every x in xs` cannot be written without `in`.
    if (kw === 'every') this.keywords.add('in');
  }

  /** A plain ref like `a.b["c"]` used by package/import/rule heads. */
  private parseRefTerm(): T {
    const t = this.next();
    if (t.kind !== 'ident') this.fail(`unexpected ${describe(t, this.keywords)} token: expected ref`, t);
    const head = Term.var(t.text, this.loc(t));
    const path: T[] = [];
    for (;;) {
      const n = this.raw();
      if (n.kind === 'punct' && n.text === '.' && this.adjacent()) {
        this.pos++;
        const id = this.raw();
        if (id.kind !== 'ident') this.fail(`unexpected ${describe(id, this.keywords)} token: expected ident`, id);
        this.pos++;
        path.push(Term.scalar(id.text, this.loc(id)));
      } else if (n.kind === 'punct' && n.text === '[' && this.adjacent()) {
        this.pos++;
        path.push(this.nested(1, () => this.parseTermExpr()));
        this.nested(1, () => this.expect(']'));
      } else break;
    }
    return path.length ? Term.ref(head, path, head.loc) : head;
  }

  // ---- rules ----------------------------------------------------------------------------
  private parseRule(): Rule[] {
    const start = this.peek();
    const isDefault = this.isKeywordHere('default') && this.accept('default');
    if (start.kind !== 'ident') this.fail(`unexpected ${describe(start, this.keywords)} token`, start);
    const refTerm = this.parseRefTerm();
    const ref = refTerm.kind === 'ref' ? [refTerm.head, ...refTerm.path] : [refTerm];
    if (ref.length === 1 && ref[0]!.kind === 'var' && this.keywords.has(ref[0].name))
      this.fail(`unexpected ${ref[0].name} keyword`, start);
    let args: T[] | undefined;
    if (this.raw().kind === 'punct' && this.raw().text === '(' && this.adjacent()) {
      this.pos++;
      args = this.nested(1, () => this.parseList(')'));
    }
    let contains: T | undefined;
    let value: T | undefined;
    let assign = false;
    if (this.isKw('contains')) {
      this.pos++;
      contains = this.parseTermExpr();
    } else if (this.is(':=', ['punct']) || this.is('=', ['punct'])) {
      assign = this.next().text === ':=';
      value = this.parseTermExpr();
    }
    const loc = this.loc(start);
    if (isDefault) {
      if (!value) this.fail('default rules must have a value', start);
      return [{ kind: 'rule', ref, args, contains, value, assign, isDefault, body: [], elses: [], loc }];
    }
    let body: Body = [];
    let hasBody = false;
    const hasIf = this.isKw('if');
    if (hasIf) {
      this.pos++;
      body = this.parseIfBody();
      hasBody = true;
    } else if (this.is('{', ['punct'])) {
      if (this.v1Syntax) this.fail('`if` keyword is required before rule body', this.peek());
      body = this.parseBraceBody();
      hasBody = true;
    } else if (!this.v1Syntax && this.braceOnNextLine()) {
      body = this.parseBraceBody();
      hasBody = true;
    }
    // v0 (OPA's parseRules back-compat): `p[x] { … }`, `p.q { … }` and a bare `p[x]` are partial
    // set rules; `p[k] = v { … }` keeps its key and is a partial object rule, whose single value
    // an else chain cannot pick.
    const v0Key = !this.v1Syntax && !hasIf && !contains && !args && ref.length === 2;
    let headRef = ref;
    if (v0Key && !value) {
      contains = ref[1];
      headRef = [ref[0]!];
    }
    if (!hasBody && !value && !contains && !args) {
      // A bare `p` is not a rule in v1; v0 takes a bare `a.b.c` as `a.b.c = true`.
      if (this.v1Syntax) this.fail(`rule must have value assignment and/or body`, start);
      if (ref.length === 1) this.fail('var cannot be used for rule name', start);
    }
    const elses: ElseClause[] = [];
    for (;;) {
      const save = this.pos;
      this.skipNl();
      // `else.x := 1` on the next line is a rule of its own whose ref starts with `else`.
      if (!this.isKeywordHere('else')) {
        this.pos = save;
        break;
      }
      const et = this.next();
      // As OPA: an else chain picks one value for one document, which a key in the head cannot name.
      if (ref.length > 1 && !ref.slice(1).every(isGroundTerm)) this.fail('else keyword cannot be used on rules with variables in head', et);
      if (contains || v0Key) this.fail('else keyword cannot be used on multi-value rules', et);
      let ev: T | undefined;
      if (this.is(':=', ['punct']) || this.is('=', ['punct'])) {
        this.pos++;
        ev = this.parseTermExpr();
      }
      let eb: Body = [];
      if (this.isKw('if')) {
        this.pos++;
        eb = this.parseIfBody();
      } else if (this.is('{', ['punct']) || (!this.v1Syntax && this.braceOnNextLine())) {
        if (this.v1Syntax) this.fail('`if` keyword is required before rule body');
        eb = this.parseBraceBody();
      }
      elses.push({ value: ev, body: eb, loc: this.loc(et) });
    }
    const annotations = annotationsAbove(this.rows(), start.row, 'rule', (m) => this.fail(m, start));
    const rules: Rule[] = [{ kind: 'rule', ref: headRef, args, contains, value, assign, isDefault, body, elses, loc, annotations }];
    if (hasBody && !this.v1Syntax) {
      // v0 chains further bodies to one head (`p { a } { b }`): each is a rule of its own.
      for (;;) {
        const save = this.pos;
        this.skipNl();
        if (!this.is('{', ['punct'])) {
          this.pos = save;
          break;
        }
        if (elses.length) this.fail('expected else keyword');
        const open = this.peek();
        const more = this.parseBraceBody();
        rules.push({ ...rules[0]!, body: more, loc: this.loc(open), annotations: undefined });
      }
    }
    return rules;
  }

  /** v0 (as OPA's scanner, which skips newlines between tokens): `p⏎{ … }` is a head and its body. */
  private braceOnNextLine(): boolean {
    const save = this.pos;
    this.skipNl();
    if (this.is('{', ['punct'])) return true;
    this.pos = save;
    return false;
  }

  private parseIfBody(): Body {
    if (this.is('{', ['punct'])) {
      // `if {` is a body, unless it only parses as a term literal (`if {x: i | ...}`).
      const save = this.pos;
      try {
        return this.parseBraceBody();
      } catch (e) {
        this.pos = save;
        try {
          return [this.parseLiteral()];
        } catch {
          throw e;
        }
      }
    }
    const lit = this.parseLiteral();
    return [lit];
  }

  private parseBraceBody(): Body {
    const open = this.expect('{');
    return this.nested(0, () => {
      const body = this.parseQuery('}');
      if (body.length === 0) this.fail('found empty body', open);
      this.expect('}');
      return body;
    });
  }

  /** Literals separated by `;` or newlines, up to (not including) `end`. */
  parseQuery(end: string): Expr[] {
    return this.enter(() => this.parseLiterals(end));
  }

  private parseLiterals(end: string): Expr[] {
    const out: Expr[] = [];
    for (;;) {
      while (this.raw().kind === 'nl' || (this.raw().kind === 'punct' && this.raw().text === ';')) this.pos++;
      const t = this.raw();
      if (t.kind === 'eof' || (t.kind === 'punct' && t.text === end)) return out;
      out.push(this.parseLiteral());
      const n = this.raw();
      if (n.kind === 'nl' || (n.kind === 'punct' && n.text === ';')) continue;
      if (n.kind === 'eof' || (n.kind === 'punct' && n.text === end)) continue;
      this.fail(`unexpected ${describe(n, this.keywords)} token: expected \\n or ; or ${end}`, n);
    }
  }

  private parseLiteral(): Expr {
    const t = this.peek();
    const loc = this.loc(t);
    if (this.isKeywordHere('some')) {
      this.pos++;
      return this.parseSome(loc);
    }
    if (this.isKeywordHere('every')) {
      this.pos++;
      return this.parseEvery(loc, false);
    }
    let negated = false;
    if (this.isKeywordHere('not')) {
      this.pos++;
      negated = true;
      if (this.isKw('every')) {
        this.pos++;
        return this.parseEvery(loc, true);
      }
    }
    let term = this.parseExprTerm();
    if (this.is(',', ['punct']) && this.depth === 0) {
      // `k, v in xs` as a literal: membership with key (internal.member_3).
      this.pos++;
      const v = this.parseTermRelation();
      const inTok = this.expect('in');
      term = call('internal.member_3', [term, v, this.parseTermRelation()], this.loc(inTok));
    }
    const withs = this.parseWiths();
    return { kind: 'term', term, negated, with: withs, loc };
  }

  private parseWiths(): WithModifier[] {
    const out: WithModifier[] = [];
    for (;;) {
      let k = this.pos;
      while (this.toks[k]!.kind === 'nl') k++;
      const w = this.toks[k]!;
      const a = this.toks[k + 1]!;
      if (w.kind !== 'ident' || w.text !== 'with' || (a.kind === 'punct' && a.pos === w.end)) break;
      this.pos = k + 1;
      const target = this.parseRefTerm();
      this.expect('as');
      const value = this.parseTermExpr();
      out.push({ target, value, loc: this.loc(w) });
    }
    return out;
  }

  private parseSome(loc: Location): Expr {
    const terms: T[] = [this.parseTermRelation()];
    while (this.accept(',')) terms.push(this.parseTermRelation());
    if (this.isKw('in')) {
      this.pos++;
      if (terms.length > 2) this.fail('unexpected , token: expected in');
      const domain = this.parseTermRelation();
      const withs = this.parseWiths();
      return {
        kind: 'somein',
        key: terms.length === 2 ? terms[0] : undefined,
        value: terms[terms.length - 1]!,
        domain,
        loc,
        with: withs,
        negated: false,
      };
    }
    const vars: string[] = [];
    for (const v of terms) {
      if (v.kind !== 'var') this.fail(`expected var in some declaration`);
      vars.push(v.name);
    }
    return { kind: 'some', vars, loc, with: [], negated: false };
  }

  private parseEvery(loc: Location, negated: boolean): Expr {
    const terms: T[] = [this.parseTermRelation()];
    if (this.accept(',')) terms.push(this.parseTermRelation());
    this.expect('in');
    const domain = this.parseTermRelation();
    const body = this.parseBraceBody();
    const withs = this.parseWiths();
    for (const v of terms) if (v.kind !== 'var') this.fail('unexpected term: expected var in every');
    return { kind: 'every', key: terms.length === 2 ? terms[0] : undefined, value: terms[terms.length - 1]!, domain, body, loc, with: withs, negated };
  }

  // ---- expressions --------------------------------------------------------------------
  /** An expression literal: `a := b`, `a = b` or a single term. */
  parseExprTerm(): T {
    const lhs = this.parseTermIn();
    const op = this.raw();
    if (op.kind === 'punct' && (op.text === ':=' || op.text === '=')) {
      this.pos++;
      const rhs = this.parseTermIn();
      return call(op.text === ':=' ? 'assign' : 'eq', [lhs, rhs], this.loc(op));
    }
    return lhs;
  }

  /** A term that may be an infix expression (rule values, ref brackets, with values, args). */
  parseTermExpr(): T {
    return this.parseTermIn();
  }

  private parseTermIn(): T {
    let lhs = this.parseTermRelation();
    while (this.isKw('in')) {
      const t = this.next();
      const rhs = this.parseTermRelation();
      lhs = call('internal.member_2', [lhs, rhs], this.loc(t));
    }
    return lhs;
  }

  private parseTermRelation(): T {
    let lhs = this.parseTermOr();
    for (;;) {
      const t = this.peek();
      const name = t.kind === 'punct' ? RELATIONS[t.text] : undefined;
      if (!name) return lhs;
      this.pos++;
      lhs = call(name, [lhs, this.parseTermOr()], this.loc(t));
    }
  }

  private parseTermOr(noOr = false): T {
    let lhs = this.parseTermAnd();
    while (!noOr && this.peek().kind === 'punct' && this.peek().text === '|') {
      const t = this.next();
      lhs = call('or', [lhs, this.parseTermAnd()], this.loc(t));
    }
    return lhs;
  }

  private parseTermAnd(): T {
    let lhs = this.parseTermArith();
    while (this.peek().kind === 'punct' && this.peek().text === '&') {
      const t = this.next();
      lhs = call('and', [lhs, this.parseTermArith()], this.loc(t));
    }
    return lhs;
  }

  private parseTermArith(): T {
    let lhs = this.parseTermFactor();
    for (;;) {
      const t = this.peek();
      const name = t.kind === 'punct' ? ARITH[t.text] : undefined;
      if (!name) return lhs;
      this.pos++;
      lhs = call(name, [lhs, this.parseTermFactor()], this.loc(t));
    }
  }

  private parseTermFactor(): T {
    let lhs = this.parseTerm();
    for (;;) {
      const t = this.peek();
      const name = t.kind === 'punct' ? FACTOR[t.text] : undefined;
      if (!name) return lhs;
      this.pos++;
      lhs = call(name, [lhs, this.parseTerm()], this.loc(t));
    }
  }

  private parseList(close: string): T[] {
    const out: T[] = [];
    if (this.accept(close)) return out;
    for (;;) {
      out.push(this.parseTermExpr());
      if (this.accept(close)) return out;
      this.expect(',');
      if (this.accept(close)) return out;
    }
  }

  // ---- terms ---------------------------------------------------------------------------
  private parseTerm(): T {
    return this.enter(() => this.parseTermAt());
  }

  private parseTermAt(): T {
    // A term is required here, so a line break before it (`x := 1 +⏎ 2`) cannot end the literal.
    this.skipNl();
    const t = this.next();
    const loc = this.loc(t);
    let term: T;
    switch (t.kind) {
      case 'number': {
        const n = parseNumber(t.text);
        if (n === undefined) this.fail(`invalid number ${t.text}`, t);
        term = Term.scalar(n, loc);
        break;
      }
      case 'string':
      case 'rawstring':
        term = Term.scalar(t.text, loc);
        break;
      case 'template':
        term = this.parseTemplate(t);
        break;
      case 'ident':
        if ((t.text === 'true' || t.text === 'false') && !this.refFollows()) term = Term.scalar(t.text === 'true', loc);
        else if (t.text === 'null' && !this.refFollows()) term = Term.scalar(null, loc);
        else if (t.text === '_') term = this.freshWildcard(loc);
        else if (t.text === 'set' && this.raw().text === '(' && this.adjacent() && this.toks[this.pos + 1]?.text === ')') {
          this.pos += 2;
          term = { kind: 'set', items: [], loc };
        } else if (this.keywords.has(t.text) && !this.refFollows()) {
          this.fail(`unexpected ${t.text} keyword`, t);
        } else term = Term.var(t.text, loc);
        break;
      case 'punct':
        if (t.text === '(') {
          term = this.nested(1, () => {
            let e = this.parseExprTerm();
            if (this.accept(',')) {
              const v = this.parseTermRelation();
              const inTok = this.expect('in');
              e = call('internal.member_3', [e, v, this.parseTermRelation()], this.loc(inTok));
            }
            this.expect(')');
            return e;
          });
        } else if (t.text === '[') {
          term = this.nested(1, () => this.parseArray(loc));
        } else if (t.text === '{') {
          term = this.nested(1, () => this.parseBrace(loc));
        } else if (t.text === '-') {
          const n = this.raw();
          if (n.kind === 'number' && this.adjacent()) {
            this.pos++;
            const v = parseNumber('-' + n.text);
            if (v === undefined) this.fail(`invalid number`, n);
            term = Term.scalar(v, loc);
          } else {
            term = call('minus', [Term.scalar(0, loc), this.parseTerm()], loc);
          }
        } else this.fail(`unexpected ${describe(t, this.keywords)} token`, t);
        break;
      default:
        this.fail(`unexpected ${describe(t, this.keywords)} token`, t);
    }
    return this.parsePostfix(term);
  }

  private parsePostfix(term: T): T {
    for (;;) {
      const n = this.raw();
      if (n.kind !== 'punct' || !this.adjacent()) return term;
      if (n.text === '.') {
        this.pos++;
        const id = this.raw();
        if (id.kind !== 'ident') this.fail(`unexpected ${describe(id, this.keywords)} token: expected ident`, id);
        this.pos++;
        term = extendRef(term, Term.scalar(id.text, this.loc(id)));
      } else if (n.text === '[') {
        this.pos++;
        const key = this.nested(1, () => {
          const k = this.parseTermExpr();
          this.expect(']');
          return k;
        });
        term = extendRef(term, key);
      } else if (n.text === '(') {
        if (term.kind !== 'var' && term.kind !== 'ref') return term;
        this.pos++;
        const args = this.nested(1, () => this.parseList(')'));
        term = { kind: 'call', op: term, args, loc: term.loc };
      } else return term;
    }
  }

  private parseArray(loc: Location): T {
    if (this.accept(']')) return { kind: 'array', items: [], loc };
    const first = this.parseTermOrNoBar();
    if (this.is('|', ['punct'])) {
      this.pos++;
      const body = this.nested(0, () => this.parseQuery(']'));
      this.expect(']');
      return { kind: 'arraycomp', head: first, body, loc };
    }
    const items = [first];
    while (this.accept(',')) {
      if (this.is(']', ['punct'])) break;
      items.push(this.parseTermExpr());
    }
    this.expect(']');
    return { kind: 'array', items, loc };
  }

  /** A term where a top-level `|` would start a comprehension body rather than union. */
  private parseTermOrNoBar(): T {
    let lhs = this.parseTermOr(true);
    for (;;) {
      const t = this.peek();
      if (t.kind === 'ident' && t.text === 'in' && this.keywords.has('in')) {
        this.pos++;
        lhs = call('internal.member_2', [lhs, this.parseTermOr(true)], this.loc(t));
        continue;
      }
      const name = t.kind === 'punct' ? RELATIONS[t.text] : undefined;
      if (!name) return lhs;
      this.pos++;
      lhs = call(name, [lhs, this.parseTermOr(true)], this.loc(t));
    }
  }

  private parseBrace(loc: Location): T {
    if (this.accept('}')) return { kind: 'object', entries: [], loc };
    const first = this.parseTermOrNoBar();
    if (this.accept(':')) {
      const v = this.parseTermOrNoBar();
      if (this.is('|', ['punct'])) {
        this.pos++;
        const body = this.nested(0, () => this.parseQuery('}'));
        this.expect('}');
        return { kind: 'objectcomp', key: first, value: v, body, loc };
      }
      const entries: Array<readonly [T, T]> = [[first, v]];
      while (this.accept(',')) {
        if (this.is('}', ['punct'])) break;
        const k = this.parseTermExpr();
        this.expect(':');
        entries.push([k, this.parseTermExpr()]);
      }
      this.expect('}');
      return { kind: 'object', entries, loc };
    }
    if (this.is('|', ['punct'])) {
      this.pos++;
      const body = this.nested(0, () => this.parseQuery('}'));
      this.expect('}');
      return { kind: 'setcomp', head: first, body, loc };
    }
    const items = [first];
    while (this.accept(',')) {
      if (this.is('}', ['punct'])) break;
      items.push(this.parseTermExpr());
    }
    this.expect('}');
    return { kind: 'set', items, loc };
  }

  private parseTemplate(t: Token): T {
    const parts: Array<string | T> = [];
    for (const p of t.parts ?? []) {
      if ('lit' in p) parts.push(p.lit);
      else {
        const sub = new Parser(p.src, this.file, this.wildcard);
        sub.keywords = this.keywords;
        sub.recursion = this.recursion;
        let term = sub.nested(1, () => sub.parseTermExpr());
        const withs = sub.parseWiths();
        if (sub.peek().kind !== 'eof') sub.fail('unexpected token in template expression');
        if (withs.length) {
          // `{t with ...}`: evaluated as the first answer of `[v | v = t with ...]`.
          const v = sub.freshWildcard(term.loc);
          const body: Expr[] = [{ kind: 'term', term: call('eq', [v, term], term.loc), negated: false, with: withs, loc: term.loc }];
          term = Term.ref({ kind: 'arraycomp', head: v, body, loc: term.loc }, [Term.scalar(0, term.loc)], term.loc);
        }
        this.wildcard = sub.wildcards;
        parts.push(term);
      }
    }
    return { kind: 'template', parts, loc: this.loc(t) };
  }
}

function describe(t: Token, keywords: ReadonlySet<string> = V1_KEYWORDS): string {
  if (t.kind === 'eof') return 'eof';
  if (t.kind === 'nl') return 'newline';
  if (t.kind === 'ident') return keywords.has(t.text) ? `${t.text} keyword` : 'ident';
  if (t.kind === 'string' || t.kind === 'rawstring') return 'string';
  if (t.kind === 'number') return 'number';
  return t.text;
}

function call(name: string, args: T[], loc: Location): T {
  const parts = name.split('.');
  const head = Term.var(parts[0]!, loc);
  const op = parts.length > 1 ? Term.ref(head, parts.slice(1).map((p) => Term.scalar(p, loc)), loc) : head;
  return { kind: 'call', op, args, loc };
}

function extendRef(term: T, seg: T): T {
  if (term.kind === 'ref') return { ...term, path: [...term.path, seg] };
  return Term.ref(term, [seg], term.loc);
}

/** `a.b["c"]` -> ["a","b","c"]; fails on non-string segments. */
function refToStrings(t: T, what: string, fail: (m: string) => never, allowAny = false): string[] {
  if (t.kind === 'var') return [t.name];
  if (t.kind !== 'ref' || t.head.kind !== 'var') return fail(`invalid ${what}`);
  const out = [t.head.name];
  for (const p of t.path) {
    if (p.kind === 'scalar' && typeof p.value === 'string') out.push(p.value);
    else if (allowAny && p.kind === 'var') out.push(p.name);
    else return fail(`invalid ${what} path`);
  }
  return out;
}

/** A term with no variables, refs, calls or comprehensions in it. */
function isGroundTerm(t: T): boolean {
  switch (t.kind) {
    case 'scalar':
      return true;
    case 'array':
    case 'set':
      return t.items.every(isGroundTerm);
    case 'object':
      return t.entries.every(([k, v]) => isGroundTerm(k) && isGroundTerm(v));
    default:
      return false;
  }
}
