/** Props with their schema's defaults filled in (the runtime fills them at deploy; the test harness does not). */
export function withDefaults<P>(schema: { properties: Record<string, object> }, given: Partial<P>): P {
  const defaults = Object.fromEntries(Object.entries(schema.properties).flatMap(([name, spec]) => ('default' in spec ? [[name, spec.default]] : [])));
  return { ...defaults, ...given } as P;
}
