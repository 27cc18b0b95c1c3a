/** Where a node came from: OPA reports file, row and column (1-based). */
export interface Location {
  readonly file: string;
  readonly row: number;
  readonly col: number;
}
