/**
 * A parser for the SOQL subset Sovra needs (SOQL and SOSL Reference): field lists with
 * parent paths, child subqueries, COUNT()/COUNT(field), WHERE with comparison, IN / NOT IN
 * (values or a semi-join subquery), LIKE, INCLUDES/EXCLUDES, AND/OR/NOT, date and datetime
 * literals and date literals (TODAY, LAST_N_DAYS:n …), GROUP BY, ORDER BY, LIMIT, OFFSET.
 * The same condition grammar parses platform-event channel filter expressions.
 * Errors carry the column, rendered the way the real API renders them:
 * `\n<query>\n   ^\nERROR at Row:1:Column:N\n<reason>` (seen in real INVALID_FIELD /
 * INVALID_TYPE / MALFORMED_QUERY bodies, e.g. forcedotcom/soql-tooling#86, vlocity_build#364).
 */
import { SalesforceApiError } from './util.js';

export type Value =
  | { kind: 'string'; v: string }
  | { kind: 'number'; v: number }
  | { kind: 'boolean'; v: boolean }
  | { kind: 'null' }
  | { kind: 'date'; v: string }
  | { kind: 'datetime'; v: number }
  | { kind: 'dateLiteral'; name: string; n: number }
  | { kind: 'list'; items: Value[] }
  | { kind: 'subquery'; query: Query };

export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'IN' | 'NOT IN' | 'INCLUDES' | 'EXCLUDES';

export type Cond =
  | { type: 'and'; items: Cond[] }
  | { type: 'or'; items: Cond[] }
  | { type: 'not'; item: Cond }
  | { type: 'cmp'; path: string[]; op: CmpOp; value: Value; pos: number };

export type SelectItem =
  | { type: 'field'; path: string[]; pos: number }
  | { type: 'subquery'; query: Query; pos: number }
  | { type: 'count'; path: string[] | null; alias: string | null; pos: number };

export interface OrderItem {
  path: string[];
  desc: boolean;
  nullsLast: boolean;
  pos: number;
}

export interface Query {
  text: string;
  select: SelectItem[];
  from: string;
  fromPos: number;
  where: Cond | null;
  groupBy: { path: string[]; pos: number }[];
  orderBy: OrderItem[];
  limit: number | null;
  offset: number | null;
  /** `SELECT COUNT() FROM …` */
  countOnly: boolean;
}

interface Token {
  t: 'ident' | 'string' | 'number' | 'op' | 'punct' | 'datetime' | 'date' | 'eof';
  v: string;
  pos: number;
}

const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'INCLUDES',
  'EXCLUDES',
  'ORDER',
  'BY',
  'ASC',
  'DESC',
  'NULLS',
  'FIRST',
  'LAST',
  'LIMIT',
  'OFFSET',
  'GROUP',
  'NULL',
  'TRUE',
  'FALSE',
  'HAVING',
]);

export const DATE_LITERALS = new Set([
  'YESTERDAY',
  'TODAY',
  'TOMORROW',
  'LAST_WEEK',
  'THIS_WEEK',
  'NEXT_WEEK',
  'LAST_MONTH',
  'THIS_MONTH',
  'NEXT_MONTH',
  'LAST_90_DAYS',
  'NEXT_90_DAYS',
  'THIS_YEAR',
  'LAST_YEAR',
  'NEXT_YEAR',
]);
export const N_DATE_LITERALS = new Set([
  'LAST_N_DAYS',
  'NEXT_N_DAYS',
  'N_DAYS_AGO',
  'LAST_N_WEEKS',
  'NEXT_N_WEEKS',
  'LAST_N_MONTHS',
  'NEXT_N_MONTHS',
]);

/** Formats a positioned SOQL error like the real API. */
export function soqlError(text: string, pos: number, errorCode: string, reason: string): SalesforceApiError {
  const col = pos + 1;
  return new SalesforceApiError(400, errorCode, `\n${text}\n${' '.repeat(pos)}^\nERROR at Row:1:Column:${col}\n${reason}`);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw soqlError(text, start, 'MALFORMED_QUERY', 'line 1:' + start + " mismatched character '<EOF>' expecting '''");
        const ch = text[i];
        if (ch === '\\') {
          const nx = text[i + 1];
          const map: Record<string, string> = {
            n: '\n',
            r: '\r',
            t: '\t',
            b: '\b',
            f: '\f',
            '"': '"',
            "'": "'",
            '\\': '\\',
            _: '\\_',
            '%': '\\%',
          };
          if (nx === undefined || !(nx in map))
            throw soqlError(
              text,
              i,
              'MALFORMED_QUERY',
              `Invalid string literal '${text.slice(start, i + 2)}'. Illegal character sequence '\\${nx ?? ''}' in string literal.`,
            );
          v += map[nx];
          i += 2;
          continue;
        }
        if (ch === "'") {
          i++;
          break;
        }
        v += ch;
        i++;
      }
      out.push({ t: 'string', v, pos: start });
      continue;
    }
    const dt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})/.exec(text.slice(i));
    if (dt) {
      out.push({ t: 'datetime', v: dt[0], pos: start });
      i += dt[0].length;
      continue;
    }
    const d = /^\d{4}-\d{2}-\d{2}(?![\dT])/.exec(text.slice(i));
    if (d) {
      out.push({ t: 'date', v: d[0], pos: start });
      i += d[0].length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (num && (c !== '-' || /[\d]/.test(text[i + 1] ?? ''))) {
      out.push({ t: 'number', v: num[0], pos: start });
      i += num[0].length;
      continue;
    }
    const op = /^(!=|<>|<=|>=|=|<|>)/.exec(text.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[0] === '<>' ? '!=' : op[0], pos: start });
      i += op[0].length;
      continue;
    }
    if ('(),:'.includes(c)) {
      out.push({ t: 'punct', v: c, pos: start });
      i++;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (id) {
      out.push({ t: 'ident', v: id[0], pos: start });
      i += id[0].length;
      continue;
    }
    throw soqlError(text, start, 'MALFORMED_QUERY', `unexpected token: '${c}'`);
  }
  out.push({ t: 'eof', v: '', pos: text.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly toks: Token[],
  ) {}

  peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)];
  }
  next(): Token {
    return this.toks[this.i++];
  }
  isKw(kw: string, o = 0): boolean {
    const t = this.peek(o);
    return t.t === 'ident' && t.v.toUpperCase() === kw;
  }
  fail(t: Token, reason?: string): never {
    throw soqlError(this.text, t.pos, 'MALFORMED_QUERY', reason ?? `unexpected token: ${t.t === 'eof' ? '<EOF>' : t.v}`);
  }
  expectKw(kw: string): Token {
    if (!this.isKw(kw)) this.fail(this.peek());
    return this.next();
  }
  expectPunct(p: string): Token {
    const t = this.peek();
    if (t.t !== 'punct' || t.v !== p) this.fail(t);
    return this.next();
  }
  isPunct(p: string): boolean {
    const t = this.peek();
    return t.t === 'punct' && t.v === p;
  }
  path(): { path: string[]; pos: number } {
    const t = this.peek();
    if (t.t !== 'ident' || KEYWORDS.has(t.v.toUpperCase())) this.fail(t);
    this.next();
    return { path: t.v.split('.'), pos: t.pos };
  }

  query(): Query {
    this.expectKw('SELECT');
    const select: SelectItem[] = [];
    let countOnly = false;
    for (;;) {
      const t = this.peek();
      if (this.isPunct('(')) {
        const pos = this.next().pos;
        const q = this.query();
        this.expectPunct(')');
        select.push({ type: 'subquery', query: q, pos });
      } else if (t.t === 'ident' && t.v.toUpperCase() === 'COUNT' && this.peek(1).t === 'punct' && this.peek(1).v === '(') {
        this.next();
        this.next();
        if (this.isPunct(')')) {
          this.next();
          countOnly = true;
          select.push({ type: 'count', path: null, alias: null, pos: t.pos });
        } else {
          const p = this.path();
          this.expectPunct(')');
          let alias: string | null = null;
          const a = this.peek();
          if (a.t === 'ident' && !KEYWORDS.has(a.v.toUpperCase())) {
            alias = a.v;
            this.next();
          }
          select.push({ type: 'count', path: p.path, alias, pos: t.pos });
        }
      } else {
        const p = this.path();
        select.push({ type: 'field', ...p });
      }
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      break;
    }
    if (countOnly && select.length > 1) this.fail(this.peek(), 'COUNT() and other fields cannot be selected together');
    this.expectKw('FROM');
    const fromTok = this.peek();
    if (fromTok.t !== 'ident') this.fail(fromTok);
    this.next();
    // An optional alias (`FROM Account a`) is not supported; anything else is the next clause.
    const q: Query = {
      text: this.text,
      select,
      from: fromTok.v,
      fromPos: fromTok.pos,
      where: null,
      groupBy: [],
      orderBy: [],
      limit: null,
      offset: null,
      countOnly,
    };
    if (this.isKw('WHERE')) {
      this.next();
      q.where = this.orExpr();
    }
    // WITH SECURITY_ENFORCED / USER_MODE / SYSTEM_MODE: accepted; the emulator has no FLS or sharing.
    if (this.isKw('WITH')) {
      this.next();
      const mode = this.next();
      if (mode.t !== 'ident' || !['SECURITY_ENFORCED', 'USER_MODE', 'SYSTEM_MODE'].includes(mode.v.toUpperCase())) this.fail(mode);
    }
    if (this.isKw('GROUP')) {
      this.next();
      this.expectKw('BY');
      for (;;) {
        q.groupBy.push(this.path());
        if (!this.isPunct(',')) break;
        this.next();
      }
    }
    if (this.isKw('ORDER')) {
      this.next();
      this.expectKw('BY');
      for (;;) {
        const p = this.path();
        let desc = false;
        if (this.isKw('ASC')) this.next();
        else if (this.isKw('DESC')) {
          this.next();
          desc = true;
        }
        let nullsLast = desc;
        if (this.isKw('NULLS')) {
          this.next();
          if (this.isKw('FIRST')) nullsLast = false;
          else if (this.isKw('LAST')) nullsLast = true;
          else this.fail(this.peek());
          this.next();
        }
        q.orderBy.push({ ...p, desc, nullsLast });
        if (!this.isPunct(',')) break;
        this.next();
      }
    }
    if (this.isKw('LIMIT')) {
      this.next();
      q.limit = this.integer();
    }
    if (this.isKw('OFFSET')) {
      this.next();
      q.offset = this.integer();
    }
    return q;
  }

  integer(): number {
    const t = this.next();
    if (t.t !== 'number' || !/^\d+$/.test(t.v)) this.fail(t);
    return Number(t.v);
  }

  orExpr(): Cond {
    const items = [this.andExpr()];
    while (this.isKw('OR')) {
      this.next();
      items.push(this.andExpr());
    }
    return items.length === 1 ? items[0] : { type: 'or', items };
  }
  andExpr(): Cond {
    const items = [this.unary()];
    while (this.isKw('AND')) {
      this.next();
      items.push(this.unary());
    }
    return items.length === 1 ? items[0] : { type: 'and', items };
  }
  unary(): Cond {
    if (this.isKw('NOT')) {
      this.next();
      return { type: 'not', item: this.unary() };
    }
    if (this.isPunct('(')) {
      this.next();
      const c = this.orExpr();
      this.expectPunct(')');
      return c;
    }
    return this.comparison();
  }
  comparison(): Cond {
    const p = this.path();
    const t = this.peek();
    let op: CmpOp;
    if (t.t === 'op') {
      this.next();
      op = t.v as CmpOp;
    } else if (this.isKw('LIKE') || this.isKw('IN') || this.isKw('INCLUDES') || this.isKw('EXCLUDES')) {
      op = this.next().v.toUpperCase() as CmpOp;
    } else if (this.isKw('NOT') && this.isKw('IN', 1)) {
      this.next();
      this.next();
      op = 'NOT IN';
    } else this.fail(t);
    let value: Value;
    if (op === 'IN' || op === 'NOT IN' || op === 'INCLUDES' || op === 'EXCLUDES') {
      this.expectPunct('(');
      if (this.isKw('SELECT')) {
        if (op !== 'IN' && op !== 'NOT IN') this.fail(this.peek());
        value = { kind: 'subquery', query: this.query() };
      } else {
        const items: Value[] = [];
        for (;;) {
          items.push(this.literal());
          if (!this.isPunct(',')) break;
          this.next();
        }
        value = { kind: 'list', items };
      }
      this.expectPunct(')');
    } else value = this.literal();
    return { type: 'cmp', path: p.path, op, value, pos: p.pos };
  }
  literal(): Value {
    const t = this.next();
    switch (t.t) {
      case 'string':
        return { kind: 'string', v: t.v };
      case 'number':
        return { kind: 'number', v: Number(t.v) };
      case 'date':
        if (Number.isNaN(Date.parse(`${t.v}T00:00:00Z`))) this.fail(t, `value of filter criterion for field is not a valid date: ${t.v}`);
        return { kind: 'date', v: t.v };
      case 'datetime': {
        const ms = Date.parse(t.v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
        if (Number.isNaN(ms)) this.fail(t);
        return { kind: 'datetime', v: ms };
      }
      case 'ident': {
        const u = t.v.toUpperCase();
        if (u === 'NULL') return { kind: 'null' };
        if (u === 'TRUE' || u === 'FALSE') return { kind: 'boolean', v: u === 'TRUE' };
        if (DATE_LITERALS.has(u)) return { kind: 'dateLiteral', name: u, n: 0 };
        if (N_DATE_LITERALS.has(u)) {
          this.expectPunct(':');
          const n = this.next();
          if (n.t !== 'number' || !/^\d+$/.test(n.v)) this.fail(n);
          return { kind: 'dateLiteral', name: u, n: Number(n.v) };
        }
        return this.fail(t);
      }
      default:
        return this.fail(t);
    }
  }
}

export function parseSoql(text: string): Query {
  const trimmed = text.trim();
  if (!trimmed) throw new SalesforceApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  const p = new Parser(trimmed, tokenize(trimmed));
  const q = p.query();
  if (p.peek().t !== 'eof') p.fail(p.peek());
  return q;
}

/** A channel member's filterExpression (Platform Events Developer Guide, "Filter Expression Format"). */
export function parseCondition(text: string): Cond {
  const p = new Parser(text, tokenize(text));
  const c = p.orExpr();
  if (p.peek().t !== 'eof') p.fail(p.peek());
  return c;
}

/** [start, end) in ms (UTC) of a SOQL date literal relative to `now`. */
export function dateLiteralRange(name: string, n: number, now: number): [number, number] {
  const DAY = 86_400_000;
  const d = new Date(now);
  const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const weekStart = today - d.getUTCDay() * DAY; // Sunday start (US locale)
  const month = (offset: number): [number, number] => [
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1),
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset + 1, 1),
  ];
  const year = (offset: number): [number, number] => [
    Date.UTC(d.getUTCFullYear() + offset, 0, 1),
    Date.UTC(d.getUTCFullYear() + offset + 1, 0, 1),
  ];
  switch (name) {
    case 'TODAY':
      return [today, today + DAY];
    case 'YESTERDAY':
      return [today - DAY, today];
    case 'TOMORROW':
      return [today + DAY, today + 2 * DAY];
    case 'THIS_WEEK':
      return [weekStart, weekStart + 7 * DAY];
    case 'LAST_WEEK':
      return [weekStart - 7 * DAY, weekStart];
    case 'NEXT_WEEK':
      return [weekStart + 7 * DAY, weekStart + 14 * DAY];
    case 'THIS_MONTH':
      return month(0);
    case 'LAST_MONTH':
      return month(-1);
    case 'NEXT_MONTH':
      return month(1);
    case 'THIS_YEAR':
      return year(0);
    case 'LAST_YEAR':
      return year(-1);
    case 'NEXT_YEAR':
      return year(1);
    // "LAST_N_DAYS:n … starts 00:00:00 of the current day and continues for the past n days"
    // (SOQL reference, Date Formats and Date Literals) — so it includes today.
    case 'LAST_90_DAYS':
      return [today - 90 * DAY, today + DAY];
    case 'NEXT_90_DAYS':
      return [today + DAY, today + 91 * DAY];
    case 'LAST_N_DAYS':
      return [today - n * DAY, today + DAY];
    case 'NEXT_N_DAYS':
      return [today + DAY, today + (n + 1) * DAY];
    case 'N_DAYS_AGO':
      return [today - n * DAY, today - (n - 1) * DAY];
    case 'LAST_N_WEEKS':
      return [weekStart - 7 * n * DAY, weekStart];
    case 'NEXT_N_WEEKS':
      return [weekStart + 7 * DAY, weekStart + 7 * (n + 1) * DAY];
    case 'LAST_N_MONTHS':
      return [month(-n)[0], month(0)[0]];
    case 'NEXT_N_MONTHS':
      return [month(1)[0], month(n + 1)[0]];
    default:
      throw new Error(`unknown date literal ${name}`);
  }
}
