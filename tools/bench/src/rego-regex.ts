/**
 * Regex/glob benchmark: decisions whose pattern would make a backtracking matcher run for
 * seconds to minutes (nested quantifiers, a glob with many stars), evaluated in-process through
 * compileModules as the sidecar and the embedded gateway do, on the short inputs first reported
 * and on 10,000-character ones. The baseline is a trivial `regex.match("^a", input.s)` on the
 * same input in the same run, so the ratios show what the pattern's shape costs on top of
 * evaluating a decision at all.
 *
 *   npm run bench:regex     (BENCH_REPEATS=21 by default)
 *
 * Each case reports its first decision (pattern compiled, cold) and the median of the repeats;
 * the target (< 10 ms) applies to the median of the cases. Every answer is checked, so
 * a fast wrong answer fails the run.
 */
import { compileModules } from '@cloud-stack/rego';
import { round } from './policy-load';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 21);
const LONG = 10_000;
const TARGET_MS = 10;

interface Case {
  readonly name: string;
  readonly rule: string;
  readonly input: string;
  readonly want: unknown;
  /** Part of issue 17's table (held to the target), or another pattern built-in shown alongside. */
  readonly table: boolean;
}

interface Figure {
  readonly name: string;
  readonly chars: number;
  readonly cold_ms: number;
  readonly median_ms: number;
  readonly baseline_ms: number;
  readonly ratio: number;
}

const NESTED = 'p := regex.match(`^(a+)+$`, input.s)';
const STARS = 'p := glob.match("*a*a*a*a*a*a*a*a*b", [], input.s)';
const BASELINE = 'p := regex.match("^a", input.s)';
const as = (n: number): string => 'a'.repeat(n);

const cases: readonly Case[] = [
  ...[24, 26, 28, LONG].map((n) => ({ name: 'regex_nested_quantifier', rule: NESTED, input: as(n) + '!', want: false, table: true })),
  ...[100, LONG].map((n) => ({ name: 'glob_many_stars', rule: STARS, input: as(n), want: false, table: true })),
  // The other built-ins that match a pattern, on the long input. `[^a]` rather than a literal
  // such as `b`, so that no required-literal shortcut skips the match itself.
  { name: 'glob_many_stars_no_delimiters', rule: STARS.replace('[]', 'null'), input: as(LONG), want: false, table: false },
  { name: 'regex_find_n', rule: 'p := regex.find_n(`(a+)+[^a]`, input.s, -1)', input: as(LONG), want: [], table: false },
  { name: 'regex_submatch', rule: 'p := regex.find_all_string_submatch_n(`(a|aa)+[^a]`, input.s, -1)', input: as(LONG), want: [], table: false },
  { name: 'regex_replace', rule: 'p := count(regex.replace(input.s, `(a+)+[^a]`, "x"))', input: as(LONG), want: LONG, table: false },
  { name: 'regex_split', rule: 'p := count(regex.split(`(a+)+[^a]`, input.s))', input: as(LONG), want: 1, table: false },
  { name: 'regex_template_match', rule: 'p := regex.template_match("{(a+)+}[^a]", input.s, "{", "}")', input: as(LONG), want: false, table: false },
  { name: 'json_schema_pattern', rule: 'p := json.match_schema({"s": input.s}, {"properties": {"s": {"pattern": "^(a+)+$"}}})[0]', input: as(LONG) + '!', want: false, table: false },
  // Not adversarial, large output: 10,000 matches, each located and its group extracted.
  { name: 'regex_submatch_10k_matches', rule: 'p := count(regex.find_all_string_submatch_n(`(a)`, input.s, -1))', input: as(LONG), want: LONG, table: false },
  // Intersection of two globs: a search over pairs of positions, so |pattern| x |input| steps.
  { name: 'regex_globs_match', rule: 'p := regex.globs_match(".*a.*a.*a.*a.*a.*a.*a.*a.*b", input.s)', input: as(LONG), want: false, table: false },
];

/** Milliseconds of one decision, and its answer. */
function decide(rule: string, s: string): (() => { ms: number; result: unknown }) {
  const set = compileModules([{ file: 'bench.rego', source: `package bench\n${rule}` }]);
  const path = ['bench', 'p'];
  return () => {
    const t0 = process.hrtime.bigint();
    const out = set.evaluate(path, { input: { s } });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms, result: out.defined ? out.result : undefined };
  };
}

function measure(rule: string, s: string, want: unknown, name: string): { cold: number; median: number } {
  const run = decide(rule, s);
  const first = run();
  if (JSON.stringify(first.result) !== JSON.stringify(want)) {
    throw new Error(`${name} on ${s.length} chars answered ${JSON.stringify(first.result)}, want ${JSON.stringify(want)}`);
  }
  const samples: number[] = [];
  for (let i = 0; i < REPEATS; i++) samples.push(run().ms);
  samples.sort((a, b) => a - b);
  return { cold: first.ms, median: samples[samples.length >> 1]! };
}

function main(): void {
  // Loads the engine and the matcher once, so the first case does not pay for module start-up.
  measure(BASELINE, 'warm-up', false, 'warm-up');

  const baselines = new Map<number, number>();
  const baselineFor = (s: string): number => {
    let b = baselines.get(s.length);
    if (b === undefined) {
      b = measure(BASELINE, s, true, 'baseline').median;
      baselines.set(s.length, b);
    }
    return b;
  };

  const figures = cases.map((c) => {
    const { cold, median } = measure(c.rule, c.input, c.want, c.name);
    const baseline = baselineFor(c.input);
    const figure: Figure = {
      name: c.name,
      chars: c.input.length,
      cold_ms: round(cold, 3),
      median_ms: round(median, 3),
      baseline_ms: round(baseline, 3),
      ratio: round(median / baseline, 1),
    };
    return { figure, table: c.table };
  });
  const table = figures.filter((f) => f.table).map((f) => f.figure);
  const others = figures.filter((f) => !f.table).map((f) => f.figure);

  const header = `${'case'.padEnd(30)} ${'chars'.padStart(6)} ${'cold ms'.padStart(9)} ${'median ms'.padStart(10)} ${'baseline ms'.padStart(12)} ${'ratio'.padStart(7)}`;
  const line = (f: Figure) =>
    `${f.name.padEnd(30)} ${String(f.chars).padStart(6)} ${f.cold_ms.toFixed(3).padStart(9)} ${f.median_ms.toFixed(3).padStart(10)} ${f.baseline_ms.toFixed(3).padStart(12)} ${String(f.ratio).padStart(7)}`;
  console.log(`regex/glob benchmark: one decision per call (compileModules, in-process), median of ${REPEATS} after a cold first call`);
  console.log(`baseline: regex.match("^a", input.s) on the same input; ratio = median / baseline`);
  console.log('');
  console.log(`issue 17's table, target < ${TARGET_MS} ms per decision`);
  console.log(header);
  table.forEach((f) => console.log(line(f)));
  console.log('');
  console.log('other pattern built-ins (not part of the target)');
  console.log(header);
  others.forEach((f) => console.log(line(f)));

  const at = (name: string) => table.find((f) => f.name === name && f.chars >= LONG)!;
  const maxMedian = Math.max(...table.map((f) => f.median_ms));
  const maxCold = Math.max(...table.map((f) => f.cold_ms));
  console.log('');
  console.log(`target: every table case < ${TARGET_MS} ms: ${maxMedian < TARGET_MS ? 'met' : 'MISSED'} (slowest median ${maxMedian} ms, slowest cold first call ${maxCold} ms)`);
  console.log(
    JSON.stringify({
      regex_nested_quantifier_ms: at('regex_nested_quantifier').median_ms,
      glob_many_stars_ms: at('glob_many_stars').median_ms,
      baseline_ms: round(baselines.get(LONG)!, 3),
      max_case_ms: maxMedian,
      max_cold_ms: maxCold,
      target_met: maxMedian < TARGET_MS,
      others_max_ms: Math.max(...others.map((f) => f.median_ms)),
      table,
      others,
    }),
  );
}

main();
