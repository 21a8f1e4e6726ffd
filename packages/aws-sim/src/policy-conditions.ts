/**
 * The Condition block of a policy statement: parsing (so bad operators are
 * refused when the policy is stored) and evaluation against a request context.
 * Keys are case-insensitive as in IAM; values compare per operator.
 */
import { malformedPolicy } from './aws-error.ts';

export type ConditionContext = Record<string, string | string[] | undefined>;

export interface ConditionClause {
  operator: string;
  qualifier?: 'ForAnyValue' | 'ForAllValues';
  ifExists: boolean;
  key: string;
  values: string[];
}

type Test = (actual: string, expected: string) => boolean;

const glob = (pattern: string, flags = ''): RegExp =>
  new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
    flags + 's',
  );

const numeric = (cmp: (a: number, b: number) => boolean): Test => (a, b) =>
  a.trim() !== '' && b.trim() !== '' && cmp(Number(a), Number(b));
const dated = (cmp: (a: number, b: number) => boolean): Test => (a, b) => {
  const x = Date.parse(a);
  const y = Date.parse(b);
  return !Number.isNaN(x) && !Number.isNaN(y) && cmp(x, y);
};

/** Positive comparators; the `Not` operators negate them. */
const TESTS: Record<string, Test> = {
  StringEquals: (a, b) => a === b,
  StringEqualsIgnoreCase: (a, b) => a.toLowerCase() === b.toLowerCase(),
  StringLike: (a, b) => glob(b).test(a),
  // IAM treats ArnEquals and ArnLike alike: both accept wildcards.
  ArnEquals: (a, b) => glob(b).test(a),
  ArnLike: (a, b) => glob(b).test(a),
  Bool: (a, b) => a.toLowerCase() === b.toLowerCase(),
  NumericEquals: numeric((a, b) => a === b),
  NumericLessThan: numeric((a, b) => a < b),
  NumericLessThanEquals: numeric((a, b) => a <= b),
  NumericGreaterThan: numeric((a, b) => a > b),
  NumericGreaterThanEquals: numeric((a, b) => a >= b),
  DateEquals: dated((a, b) => a === b),
  DateLessThan: dated((a, b) => a < b),
  DateLessThanEquals: dated((a, b) => a <= b),
  DateGreaterThan: dated((a, b) => a > b),
  DateGreaterThanEquals: dated((a, b) => a >= b),
};

const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
  NumericNotEquals: 'NumericEquals',
  DateNotEquals: 'DateEquals',
};

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function parseConditions(block: unknown): ConditionClause[] {
  if (block === undefined) return [];
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    throw malformedPolicy('Syntax errors in policy. Condition must be an object.');
  }
  const clauses: ConditionClause[] = [];
  for (const [rawOperator, keys] of Object.entries(block)) {
    let operator = rawOperator;
    let qualifier: ConditionClause['qualifier'];
    const q = /^(ForAnyValue|ForAllValues):(.+)$/.exec(operator);
    if (q) {
      qualifier = q[1] as ConditionClause['qualifier'];
      operator = q[2];
    }
    const ifExists = operator.endsWith('IfExists') && operator !== 'IfExists';
    if (ifExists) operator = operator.slice(0, -'IfExists'.length);
    if (!(operator in TESTS) && !(operator in NEGATED) && operator !== 'Null') {
      throw malformedPolicy(`Invalid Condition type : ${rawOperator}`);
    }
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
      throw malformedPolicy(`Syntax errors in policy. Condition ${rawOperator} must map keys to values.`);
    }
    for (const [key, value] of Object.entries(keys)) {
      const list = Array.isArray(value) ? value.map(scalar) : [scalar(value)];
      if (list.length === 0 || list.some((v) => v === undefined)) {
        throw malformedPolicy(`Syntax errors in policy. Condition ${rawOperator} ${key} needs string values.`);
      }
      clauses.push({ operator, qualifier, ifExists, key: key.toLowerCase(), values: list as string[] });
    }
  }
  return clauses;
}

export function conditionHolds(c: ConditionClause, context: ConditionContext): boolean {
  const raw = context[c.key];
  const actual = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (c.operator === 'Null') {
    const wantAbsent = c.values.some((v) => v.toLowerCase() === 'true');
    return wantAbsent ? actual.length === 0 : actual.length > 0;
  }
  const negated = c.operator in NEGATED;
  const test = TESTS[negated ? NEGATED[c.operator] : c.operator];
  if (actual.length === 0) {
    // A missing key fails a positive test and passes a negated one, as in IAM.
    if (c.ifExists) return true;
    if (c.qualifier === 'ForAllValues') return true;
    if (c.qualifier === 'ForAnyValue') return false;
    return negated;
  }
  const one = (v: string): boolean => {
    const hit = c.values.some((expected) => test(v, expected));
    return negated ? !hit : hit;
  };
  if (c.qualifier === 'ForAllValues') return actual.every(one);
  if (c.qualifier === 'ForAnyValue') return actual.some(one);
  const anyHit = actual.some((v) => c.values.some((expected) => test(v, expected)));
  return negated ? !anyHit : anyHit;
}
