import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { MemoryContext } from '@flowcrew/sdk/testing';
import { compileJsonata } from './expressions.ts';
import { DEFAULT_LIMITS, LimitExceededError, type HostLimits } from './limits.ts';

const scopes = () => ({ flow: new MemoryContext(), global: new MemoryContext() });

/** Evaluate, and report how long the event loop was blocked at most meanwhile (timers every 5 ms). */
async function evaluateWatched(expression: string, input: unknown = {}, limits: HostLimits = DEFAULT_LIMITS) {
  let last = performance.now();
  let longestStall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestStall = Math.max(longestStall, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    const result = await compileJsonata(expression, scopes(), { limits }).evaluate(input);
    return { result, error: undefined, ms: performance.now() - started, longestStall };
  } catch (error) {
    return { result: undefined, error: error as Error, ms: performance.now() - started, longestStall: Math.max(longestStall, performance.now() - last) };
  } finally {
    clearInterval(timer);
  }
}

describe('JSONata under limits: the attacks of issue 7 fail their own evaluation, quickly, without stalling', () => {
  it('endless tail recursion hits the time limit while other work keeps running', async () => {
    const run = await evaluateWatched('($f := function($x){ $f($x) }; $f(1))');
    expect(run.error).toBeInstanceOf(LimitExceededError);
    expect(run.error!.message).toBe('JSONata expression exceeded its time limit of 1000 ms (FLOWCREW_EXPRESSION_TIMEOUT_MS)');
    expect(run.ms).toBeLessThan(5000);
    // It yields every few ms: timers of other flows ran all along (bound well under the 1 s limit, generous for a busy CI machine).
    expect(run.longestStall).toBeLessThan(600);
  });

  it('non-tail recursion (a heap out-of-memory crash after ~2 min before) hits the depth limit', async () => {
    const run = await evaluateWatched('($f := function($x){ 1 + $f($x) }; $f(1))');
    expect(run.error!.message).toBe('JSONata expression exceeded its depth limit of 5000 nested steps (a recursive function that never ends?) (FLOWCREW_EXPRESSION_MAX_DEPTH)');
  });

  it('a counting tail loop hits the time limit', async () => {
    const run = await evaluateWatched('($loop := function($n){ $n < 0 ? $n : $loop($n + 1) }; $loop(0))');
    expect(run.error!.message).toMatch(/exceeded its time limit of 1000 ms/);
  });

  it('$count([1..10000000].([1..10])) is refused for its size', async () => {
    const run = await evaluateWatched('$count([1..10000000].([1..10]))');
    expect(run.error).toBeInstanceOf(LimitExceededError);
    expect(run.error!.message).toMatch(/than the limit of 1000000 \(FLOWCREW_MAX_ITEMS\)$/);
    expect(run.ms).toBeLessThan(3000);
  });

  it('$pad("x", 500000000) (a fatal "invalid size" crash before) is refused before allocating', async () => {
    const run = await evaluateWatched('$pad("x", 500000000)');
    expect(run.error!.message).toBe('$pad to width 500000000 exceeds the string limit of 16777216 characters (FLOWCREW_MAX_MESSAGE_BYTES)');
    expect(run.ms).toBeLessThan(2000);
    // Strings from the message are not measured as they are built: $join checks the total before joining.
    const parts = { payload: ['x'.repeat(6_000_000), 'y'.repeat(6_000_000), 'z'.repeat(6_000_000)] };
    expect((await evaluateWatched('$join(payload)', parts)).error!.message).toBe('$join would build a string of 18000000 characters, more than the limit of 16777216 (FLOWCREW_MAX_MESSAGE_BYTES)');
    // Built ones are: an array holding them is already over the limit.
    expect((await evaluateWatched('[$pad("", 9000000, "x"), $pad("", 9000000, "y")]')).error!.message).toBe("A JSONata expression's value holds more than 16777216 characters once written out (FLOWCREW_MAX_MESSAGE_BYTES)");
  });

  it('catastrophic backtracking in $match, $replace, $split and $contains runs in linear time', async () => {
    const payload = 'a'.repeat(30) + '!';
    for (const expression of ['$match(payload, /^(a+)+$/)', '$replace(payload, /(a+)+$/, "x")', '$split(payload, /(a+)+$/)', '$contains(payload, /^(a+)+$/)']) {
      const run = await evaluateWatched(expression, { payload });
      expect(run.error, expression).toBeUndefined();
      expect(run.ms, expression).toBeLessThan(3000);
    }
  });

  it('a lookahead regex (JavaScript engine) that backtracks is stopped at the regex deadline', async () => {
    const run = await evaluateWatched('$match(payload, /^(?=a)(a+)+$/)', { payload: 'a'.repeat(32) + '!' });
    expect(run.error).toBeInstanceOf(LimitExceededError);
    expect(run.error!.message).toMatch(/^The regular expression \/\^\(\?=a\)\(a\+\)\+\$\/ exceeded its time limit of 100 ms/);
  });

  it('an exponentially shared value ("billion laughs" in JSONata) is refused while it is built', async () => {
    // Each level refers to the previous one twice: 2^40 values once written out, from 40 small steps.
    const levels = Array.from({ length: 40 }, () => '$x := {"l": $x, "r": $x};').join(' ');
    const run = await evaluateWatched(`($x := "aaaaaaaaaa"; ${levels} $string($x))`);
    expect(run.error).toBeInstanceOf(LimitExceededError);
    expect(run.error!.message).toBe("A JSONata expression's value holds more than 1000000 values once written out (FLOWCREW_MAX_ITEMS)");
    expect(run.ms).toBeLessThan(1000);
  });

  it("JSONata's quadratic $sort and $distinct are bounded: large inputs sort, or fail at the time limit", async () => {
    const sorted = await evaluateWatched('$count($sort($reverse([1..200000])))');
    // Sorts in ~0.3 s on an idle core; a starved CI process may reach the time limit first, which is the bound too.
    if (sorted.error) expect(sorted.error.message).toMatch(/exceeded its time limit/);
    else expect(sorted.result).toBe(200000);
    expect(sorted.longestStall).toBeLessThan(600);
    const distinct = await evaluateWatched('$count($distinct([1..300000].{"a": $}))');
    expect(distinct.error!.message).toMatch(/exceeded its time limit/);
    expect(distinct.longestStall).toBeLessThan(600);
  });

  it('order-by on a huge sequence (quadratic inside JSONata) fails on time or memory instead of exhausting the heap', async () => {
    const run = await evaluateWatched('$count([1..200000]^($))');
    expect(run.error).toBeInstanceOf(LimitExceededError);
    expect(run.error!.message).toMatch(/exceeded its (time|memory) limit/);
  });

  it('a limit error inside $eval is still reported as the limit', async () => {
    const run = await evaluateWatched('$eval("($f := function($x){ $f($x) }; $f(1))")', {}, { ...DEFAULT_LIMITS, expressionTimeoutMs: 200 });
    expect(run.error!.message).toBe('JSONata expression exceeded its time limit of 200 ms (FLOWCREW_EXPRESSION_TIMEOUT_MS)');
  });

  it('a result nested deeper than a message may be is refused', async () => {
    const run = await evaluateWatched('($f := function($x, $n){ $n = 0 ? $x : $f({"a": $x}, $n - 1) }; $f(1, 200))');
    expect(run.error!.message).toBe("A JSONata expression's result is nested more than 128 levels deep (FLOWCREW_MAX_DEPTH)");
  });

  it('limits come from the configuration given', async () => {
    const limits = { ...DEFAULT_LIMITS, maxItems: 10, maxStringLength: 20 };
    expect((await evaluateWatched('[1..11]', {}, limits)).error!.message).toMatch(/than the limit of 10 \(FLOWCREW_MAX_ITEMS\)/);
    expect((await evaluateWatched('$pad("", 21)', {}, limits)).error!.message).toMatch(/string limit of 20/);
    expect((await evaluateWatched('[1..5]', {}, limits)).result).toHaveLength(5);
  });
});

describe('JSONata under limits: ordinary expressions give the same results as plain JSONata', () => {
  const input = {
    payload: { id: 'A-1', customer: 'Ada', items: [{ sku: 'mug', qty: 2, price: 60 }, { sku: 'pen', qty: 10, price: 1.5 }, { sku: 'cup', qty: 1, price: 60 }] },
    words: ['pear', 'Apple', 'fig', 'apple', 'Pear', 'fig'],
    nums: [5, 3, 9, 3, 1, 7, 3],
  };
  const expressions = [
    "{ 'orderId': payload.id, 'items': $count(payload.items), 'total': $round($sum(payload.items.(qty * price)), 2) }",
    '$sort(nums)',
    '$sort(words)',
    '$sort(payload.items, function($a, $b){ $a.price > $b.price })',
    // An inconsistent comparator: the same splits and comparisons give the same (odd) order.
    '$sort(nums, function($a, $b){ $a % 3 = 0 })',
    '$distinct(nums)',
    '$distinct(words)',
    '$distinct(payload.items.price)',
    '$distinct([payload.items, payload.items, {"a": 1}, {"a": 1}, [1, 2], [1, 2]])',
    '$distinct([1..200].($ % 7))',
    '$distinct([1..200].{"m": $ % 5})',
    '$pad("x", 5, "ab") & "|" & $pad("x", -5) & "|" & $pad("long", 2)',
    '$join(words, ", ")',
    'payload.items^(>price, sku).sku',
    '$match("x12y345", /(\\d)(\\d+)/)',
    '$replace("a-b--c", /-+/, "+")',
    '$split("a1b22c", /\\d+/)',
    '$contains("Hello", /l+o$/i)',
    '$match("a1b22c333", /\\d(?=\\d)/)',
    '$split("a1b2c", /(?<=\\d)[a-z]/)',
    '$replace("x  y\\u00a0z", /\\s+/, "_")',
    'payload.items[price > 10]',
    '$string(payload)',
    'payload.items{sku: qty}',
    '$map(nums, function($v, $i){ $v * $i })',
    '$reduce(nums, function($a, $b){ $a + $b })',
    '**.sku',
    '$keys(payload.items)',
  ];

  it.each(expressions)('%s', async (expression) => {
    const expected = await jsonata(expression).evaluate(structuredClone(input));
    const actual = await compileJsonata(expression, scopes()).evaluate(structuredClone(input));
    expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  });

  it('$sort errors as JSONata does on mixed values', async () => {
    await expect(compileJsonata('$sort([1, "a", 2, 3])', scopes()).evaluate({})).rejects.toThrow(/^Invalid JSONata expression: .*sort/i);
  });
});
