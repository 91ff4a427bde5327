/**
 * Node-RED's `file`, `file in` and `watch` onto the local file nodes of @flowcrew/nodes-files (local-file,
 * local-file-watch), which work only inside the administrator's directory (FLOWCREW_FILES_DIR): a Node-RED path
 * "/home/pi/log.txt" becomes that path below it (a leading / means its root), and nothing outside can be reached.
 * Variants with no faithful equivalent are left unmapped, with the reason (unsupportedFileVariant).
 */
import type { PropertyNote, PropsEditor } from './node-red-values.ts';

type Rule = (p: PropsEditor) => void;
type NrNode = Record<string, unknown>;

const ROOTED = 'a path inside FLOWCREW_FILES_DIR (a leading / is its root): nothing outside it can be reached';
/** Node-RED encodings our node writes and reads alike; 'none' and 'setbymsg' mean UTF-8 text for strings. */
const TEXT_ENCODINGS = new Set([undefined, '', 'none', 'utf8', 'utf-8', 'setbymsg']);

/** Why a file node of this shape is not imported; undefined when it is. */
export function unsupportedFileVariant(n: NrNode): string | undefined {
  if (n.type === 'file' || n.type === 'file in') {
    const kind = n.filenameType;
    const fromMsg = kind === 'msg' && (n.filename === 'filename' || n.filename === '');
    if (kind !== undefined && kind !== 'str' && !fromMsg) {
      return `its file name comes from ${String(kind)} "${String(n.filename)}": only a fixed name or msg.filename is supported; set msg.filename with a change node before it`;
    }
    const encoding = n.encoding as string | undefined;
    const readsBytes = n.type === 'file in' && n.format === '';
    if (!readsBytes && !TEXT_ENCODINGS.has(encoding) && !(n.type === 'file' && encoding === 'base64')) {
      return `encoding "${String(encoding)}" is not supported (the local file node reads and writes UTF-8 text, base64 or bytes)`;
    }
  }
  if (n.type === 'file in') {
    if (n.format === 'lines' || n.chunk === true || n.chunk === 'true') return 'one message per line is not supported: read the file as text and split it on "\\n" with a split node';
    if (n.format === 'stream') return 'a stream of buffer chunks is not supported: read the file as a blob (any size, streamed) instead';
  }
  if (n.type === 'watch') {
    const files = String(n.files ?? '').split(',').map((f) => f.trim()).filter(Boolean);
    if (files.length !== 1) return `watches ${files.length} paths: a local file trigger watches one directory (add one per path, with a name pattern)`;
  }
  return undefined;
}

/** `filename` (a fixed name, or empty for msg.filename) → path. */
function filePath(p: PropsEditor): void {
  const name = typeof p.get('filename') === 'string' ? (p.get('filename') as string) : '';
  const fromMsg = p.get('filenameType') === 'msg' || name === '';
  p.drop('filenameType', fromMsg ? 'msg.filename, which the node reads when its path is empty' : 'a fixed file name');
  p.drop('filename', 'renamed path');
  if (fromMsg) p.translate('path', '', 'empty: the file name comes from msg.filename (Node-RED: the same)');
  else p.translate('path', name, ROOTED);
}

/** Node-RED's `file` node: write (overwrite or append) or delete, the message passed on unchanged. */
export const fileOut: Rule = (p) => {
  filePath(p);
  const overwrite = p.get('overwriteFile');
  p.drop('overwriteFile', 'renamed operation and mode');
  if (overwrite === 'delete') {
    p.translate('operation', 'delete', 'overwriteFile "delete"');
    p.translate('missingOk', true, 'Node-RED deletes a missing file without an error');
  } else {
    p.translate('operation', 'write', 'the file node writes');
    p.translate('mode', overwrite === true || overwrite === 'true' ? 'overwrite' : 'append', `overwriteFile ${JSON.stringify(overwrite ?? 'false')}`);
    p.translate('encoding', p.get('encoding') === 'base64' ? 'base64' : 'utf8', 'strings are written as UTF-8 text (Node-RED: encoding "none")');
    const newline = p.get('appendNewline');
    p.translate('appendNewline', newline === true || newline === 'true', 'Node-RED adds a newline after text and JSON');
    const createDir = p.get('createDir');
    p.drop('createDir', 'renamed createDirs');
    p.translate('createDirs', createDir === true || createDir === 'true', "Node-RED's create directory option (off unless set)");
  }
  if (p.has('encoding') && overwrite === 'delete') p.drop('encoding', 'not used when deleting');
  p.translate('passThrough', true, "Node-RED's file node sends the message on unchanged");
};

/** Node-RED's `file in` node: the whole file as text, or its bytes (base64 here: messages carry no raw bytes). */
export const fileIn: Rule = (p) => {
  filePath(p);
  p.translate('operation', 'read', 'the file in node reads');
  const format = p.get('format');
  p.drop('format', 'renamed output');
  p.translate('output', format === '' ? 'base64' : 'text', format === '' ? 'a single Buffer in Node-RED: base64 text here (messages carry no raw bytes)' : 'a single UTF-8 string');
  p.drop('encoding', 'the file is read as UTF-8 text');
  p.drop('chunk', 'whole file (the legacy chunk option was off)');
  p.drop('allProps', 'only used for a message per line or chunk');
  p.drop('sendError', 'a read error fails the message and goes to catch nodes (Node-RED may also send it on)');
};

/** Node-RED's `watch` node: one path, a directory, or a file (its directory, with the file name as pattern). */
export const watch: Rule = (p) => {
  const file = String(p.get('files') ?? '').trim();
  p.drop('files', 'renamed path (and pattern)');
  // Whether a path is a file cannot be known at import: a last segment with an extension is taken as a file.
  const slash = file.lastIndexOf('/');
  const last = file.slice(slash + 1);
  if (/\.[A-Za-z0-9]+$/.test(last) && slash >= 0) {
    p.translate('path', file.slice(0, slash) || '/', `the directory of the watched file; ${ROOTED}`);
    p.translate('pattern', last, 'the watched file (a last segment with an extension is taken as a file)');
  } else p.translate('path', file, `the watched directory; ${ROOTED}`);
  p.bool('recursive', false);
  p.default('events', ['add', 'change'], 'Node-RED reports new and changed files (deletions are not reported here)');
};

/**
 * Node-RED's watch message (23-watch.js): payload and filename the full path, topic the watched path as configured,
 * file the base name, size, type "file", event "update" (node-watch's name for a new or changed file). The local
 * file trigger sends `{ file: { path, name, size, modified }, filename: <path below the root> }`, so a change
 * node after each imported watch gives its message Node-RED's shape; paths are below FLOWCREW_FILES_DIR ("/" its root).
 */
export function watchAsNodeRed<T extends { id: string; type: string }>(items: T[], note: (n: PropertyNote) => void): T[] {
  const watches = items.filter((n) => n.type === 'watch' && unsupportedFileVariant(n) === undefined) as Array<T & NrNode>;
  if (watches.length === 0) return items;
  const ids = new Set(items.map((n) => n.id));
  const added: T[] = [];
  const rewired = new Map<string, T>();
  for (const w of watches) {
    let id = `${String(w.id)}-msg`;
    for (let i = 2; ids.has(id); i++) id = `${String(w.id)}-msg-${i}`;
    ids.add(id);
    const set = (p: string, to: string, tot: string) => ({ t: 'set', p, pt: 'msg', to, tot });
    added.push({
      id, type: 'change', z: w.z, ...(typeof w.g === 'string' ? { g: w.g } : {}), name: `${typeof w.name === 'string' && w.name ? w.name : 'watch'}: Node-RED message`,
      rules: [
        set('size', 'file.size', 'msg'), set('file', 'file.name', 'msg'), set('filename', '"/" & filename', 'jsonata'), set('payload', 'filename', 'msg'),
        set('topic', String(w.files ?? '').trim(), 'str'), set('event', 'update', 'str'), set('type', 'file', 'str'),
      ],
      ...(typeof w.x === 'number' && typeof w.y === 'number' ? { x: w.x + 40, y: w.y + 50 } : {}),
      wires: Array.isArray(w.wires) && Array.isArray(w.wires[0]) ? [w.wires[0]] : [[]],
    } as unknown as T);
    rewired.set(w.id, { ...w, wires: [[id]] });
    note({ nodeId: String(w.id), type: 'watch', property: '/wires', action: 'translated', from: w.wires, to: [[id]], reason: "a change node after the trigger gives the message Node-RED's watch shape (payload/filename the path, topic, file, size, type, event \"update\")" });
  }
  return [...items.map((n) => rewired.get(n.id) ?? n), ...added];
}
