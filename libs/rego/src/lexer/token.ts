/** Token kinds of Rego. `nl` is kept because newlines separate body literals. */
export type TokenKind = 'ident' | 'string' | 'rawstring' | 'template' | 'number' | 'punct' | 'nl' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier/punctuation text, the decoded string, or the number's source text. */
  readonly text: string;
  readonly row: number;
  readonly col: number;
  /** Source offsets [pos, end): used to tell `a[b]` (a ref) from `a [b]`. */
  readonly pos: number;
  readonly end: number;
  /** For templates: alternating literal parts and embedded source expressions. */
  readonly parts?: ReadonlyArray<{ readonly lit: string } | { readonly src: string; readonly row: number; readonly col: number }>;
}
