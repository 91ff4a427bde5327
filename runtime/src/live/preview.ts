/** Message previews for live events and the debug buffer. */
/** JSON preview of a value, cut to `max` characters; `truncated` says whether anything was cut. */
export function preview(value: unknown, max: number): { json: string; truncated: boolean } {
  let json: string;
  try {
    json = JSON.stringify(value) ?? 'undefined';
  } catch (error) {
    json = `"[unserialisable: ${(error as Error).message}]"`;
  }
  return json.length > max ? { json: json.slice(0, max), truncated: true } : { json, truncated: false };
}
