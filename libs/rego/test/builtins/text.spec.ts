import { describe, it } from 'vitest';
import { check, rowName, type Row } from './harness';

const TYPE = 'eval_type_error';
const BUILTIN = 'eval_builtin_error';

const strings: Row[] = [
  ['concat', '["/", ["", "foo", "bar"]]', '"/foo/bar"'],
  ['concat', '[",", [1]]', { error: 'concat: operand 2 must be array of strings but got array containing number', code: TYPE }],
  ['indexof', '["skön var våren", "vår"]', '9'],
  ['indexof', '["🍧🍨🧁🍰🍮", "🍮"]', '4'],
  ['indexof', '["abc", ""]', { error: 'empty search character', code: BUILTIN }],
  ['indexof_n', '["😇😀😇😀😇😀", "😀"]', '[1, 3, 5]'],
  ['substring', '["aåäö", 2, -1]', '"äö"'],
  ['substring', '["abcdefgh", 2, 10000]', '"cdefgh"'],
  ['substring', '["abc", -1, 1]', { error: 'negative offset', code: BUILTIN }],
  ['substring', '["abc", 1.5, 1]', { error: 'operand 2 must be integer number but got floating-point number', code: TYPE }],
  ['split', '["test", ""]', '["t", "e", "s", "t"]'],
  ['split', '["", ""]', '[]'],
  ['split', '["a.b", "."]', '["a", "b"]'],
  ['replace', '["foo.bar.baz", ".", ","]', '"foo,bar,baz"'],
  ['replace', '["ab", "", "-"]', '"-a-b-"'],
  ['strings.replace_n', '[{"a": "b", "b": "c"}, "ab"]', '"bc"'],
  ['strings.replace_n', '[{"a": 1}, "ab"]', { error: 'operand 1 non-string value found in pattern object', code: TYPE }],
  ['trim', '["...foo.bar...", ".fr"]', '"oo.ba"'],
  ['trim_left', '["xxa", "x"]', '"a"'],
  ['trim_right', '["axx", "x"]', '"a"'],
  ['trim_prefix', '["foobar", "foo"]', '"bar"'],
  ['trim_suffix', '["foobar", "bar"]', '"foo"'],
  ['trim_space', '["\\t x \\n"]', '"x"'],
  ['lower', '["AbC"]', '"abc"'],
  ['upper', '["AbC"]', '"ABC"'],
  ['upper', '["straße é"]', '"STRAßE É"'],
  ['strings.count', '["cheese", "e"]', '3'],
  ['strings.count', '["five", ""]', '5'],
  ['strings.reverse', '["1😀𝛾"]', '"𝛾😀1"'],
  ['strings.reverse', '[1]', { error: 'reverse: operand 1 must be string but got number', code: TYPE }],
  ['strings.any_prefix_match', '[["a/b", "c/d"], "c/"]', 'true'],
  ['strings.any_suffix_match', '["a.txt", [".md", ".txt"]]', 'true'],
  ['strings.any_prefix_match', '[[1], "c"]', { error: 'operand 1 must be array of strings but got array containing number', code: TYPE }],
  ['strings.any_prefix_match', '[1, "c"]', { error: 'operand 1 must be one of {string, set, array} but got number', code: TYPE }],
  ['format_int', '[15.5, 16]', '"f"'],
  ['format_int', '[-5, 2]', '"-101"'],
  ['format_int', '[4.1, 199]', { error: 'operand 2 must be one of {2, 8, 10, 16}', code: TYPE }],
  ['contains', '["abcdefgh", "defg"]', 'true'],
  ['strings.render_template', '["{{range $i, $n := .names}}{{if $i}},{{end}}hi {{$n}}{{end}}", {"names": ["a", "b"]}]', '"hi a,hi b"'],
  ['strings.render_template', '["x {{.missing}} {{.n}}", {"n": 1}]', '"x <undefined> 1"'],
  ['startswith', '["abc", "b"]', 'false'],
  ['endswith', '["abc", "bc"]', 'true'],
];

const sprintf: Row[] = [
  ['sprintf', '["hi %s", ["there"]]', '"hi there"'],
  ['sprintf', '["hi %02d", [5]]', '"hi 05"'],
  ['sprintf', '["hi %02X.%02X", [127, 1]]', '"hi 7F.01"'],
  ['sprintf', '["hi %.2f", [3.1415]]', '"hi 3.14"'],
  ['sprintf', '["%v", [2e308]]', '"2e308"'],
  ['sprintf', '["%s", [123456789123456789123]]', '"123456789123456789123"'],
  ['sprintf', '["%s", [true]]', '"true"'],
  ['sprintf', '["%v", [["there", 5, 3.14]]]', '"[\\"there\\", 5, 3.14]"'],
  ['sprintf', '["%v", [{"b": 1, "a": [null]}]]', '"{\\"a\\": [null], \\"b\\": 1}"'],
  ['sprintf', '["%d", [1.5]]', '"%!d(float64=1.5)"'],
  ['sprintf', '["%s", [1]]', '"%!s(int=1)"'],
  ['sprintf', '["%d %d", [1]]', '"1 %!d(MISSING)"'],
  ['sprintf', '["%d", [1, "x"]]', '"1%!(EXTRA string=x)"'],
  ['sprintf', '["%-5s|%5s", ["ab", "cd"]]', '"ab   |   cd"'],
  ['sprintf', '["%x %o %b %q", [255, 8, 5, "a\\"b"]]', '"ff 10 101 \\"a\\\\\\"b\\""'],
  ['sprintf', '["%e %g %v", [1234.5678, 0.00001234, 1e21]]', '"1.234568e+03 1.234e-05 1e+21"'],
  ['sprintf', '["%v", [1234567.5]]', '"1.2345675e+06"'],
  ['sprintf', '["100%%", []]', '"100%"'],
  ['sprintf', '["%d", "x"]', { error: 'sprintf: operand 2 must be array but got string', code: TYPE }],
];

const regex: Row[] = [
  ['regex.match', '["^a.c$", "abc"]', 'true'],
  ['regex.match', '["(?i)ABC", "xabcx"]', 'true'],
  ['regex.match', '["\\\\Aab\\\\z", "ab"]', 'true'],
  ['regex.match', '["[[:digit:]]+", "a1"]', 'true'],
  ['regex.match', '["(?P<x>a)b", "ab"]', 'true'],
  ['regex.match', '["x(?i:ab)y", "xABy"]', 'true'],
  ['regex.match', '["x(?i:ab)y", "xABY"]', 'false'],
  ['regex.match', '["^\\\\Qa.b\\\\E$", "axb"]', 'false'],
  ['regex.match', '["^\\\\pL+$", "été"]', 'true'],
  ['regex.match', '["^.$", "😀"]', 'true'],
  ['regex.match', '["[a", "a"]', { error: 'regex.match: error parsing regexp', code: BUILTIN }],
  ['regex.is_valid', '["++"]', 'false'],
  ['regex.is_valid', '[1]', 'false'],
  ['regex.find_n', '["a.", "paranormal", 2]', '["ar", "an"]'],
  ['regex.find_n', '["a*", "baaab", -1]', '["", "aaa", ""]'],
  ['regex.find_all_string_submatch_n', '["a(x*)b", "-ab-axb-", -1]', '[["ab", ""], ["axb", "x"]]'],
  ['regex.split', '["a", "banana"]', '["b", "n", "n", ""]'],
  ['regex.split', '["^foo", "foobar baz"]', '["", "bar baz"]'],
  ['regex.split', '["x", ""]', '[""]'],
  ['regex.replace', '["-a-a-", "a", "0"]', '"-0-0-"'],
  ['regex.replace', '["foo", "(o)", "$1$1"]', '"foooo"'],
  ['regex.replace', '["abc", "(?P<l>b)", "[${l}]"]', '"a[b]c"'],
  ['regex.template_match', '["urn:foo:{.*}", "urn:foo:bar:baz", "{", "}"]', 'true'],
  ['regex.template_match', '["urn:foo.bar:<[a-z]+>", "urn:foo.bar:x1", "<", ">"]', 'false'],
  ['regex.globs_match', '["a.a.[0-9]+z", ".b.b2359825792*594823z"]', 'true'],
  ['regex.globs_match', '["[a-z]*", "[0-9]*"]', 'true'],
  ['regex.globs_match', '["[a-z]+", "[0-9]*"]', 'false'],
  ['regex.globs_match', '["[a-z]+", "[0-9]+"]', 'false'],
  ['regex.globs_match', '["[a-z]+\\\\[[0-9]+\\\\]", "foo\\\\[1\\\\]"]', 'true'],
  ['regex.globs_match', '["pqrs]", "[a-b]+"]', { error: "input:pqrs], pos:5, set-close ']' with no preceding '[': the input provided is invalid", code: BUILTIN }],
];

const glob: Row[] = [
  ['glob.match', '["*.github.com", ["."], "api.github.com"]', 'true'],
  ['glob.match', '["*.github.com", ["."], "api.cdn.github.com"]', 'false'],
  ['glob.match', '["api.**.com", ["."], "api.cdn.github.com"]', 'true'],
  ['glob.match', '["*", [], "foo.bar"]', 'false'],
  ['glob.match', '["*", null, "foo.bar"]', 'true'],
  ['glob.match', '["[!a-c]at", [], "fat"]', 'true'],
  ['glob.match', '["?at", ["f"], "bat"]', 'true'],
  ['glob.match', '["{cat,bat,[fr]at}", [], "rat"]', 'true'],
  ['glob.match', '["{cat,bat,[fr]at}", [], "at"]', 'false'],
  ['glob.match', '["a\\\\*b", [], "a*b"]', 'true'],
  ['glob.quote_meta', '["*.github.com"]', '"\\\\*.github.com"'],
];

describe('strings', () => {
  it.each(strings.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('sprintf (Go fmt verbs)', () => {
  it.each(sprintf.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('regex (RE2 syntax)', () => {
  it.each(regex.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
describe('glob', () => {
  it.each(glob.map((r) => [rowName(r), r] as const))('%s', (_n, row) => check(row));
});
