/** A JSONata highlighting mode for CodeMirror (kept apart from the parser, so the code editor loads without it). */
import { StreamLanguage, type StringStream } from '@codemirror/language';

const OPERATOR = /^(:=|~>|!=|<=|>=|\*\*|\.\.|\?:|\?\?|[-+*/%&=<>!?:^#@|~])/;

interface JsonataState {
  inComment: boolean;
}

function skipComment(stream: StringStream, state: JsonataState): string {
  while (!stream.eol()) {
    if (stream.match('*/')) {
      state.inComment = false;
      return 'comment';
    }
    stream.next();
  }
  return 'comment';
}

/** A token-level highlighter: strings, numbers, $variables and $functions(), operators, comments, names. */
export const jsonataLanguage = StreamLanguage.define<JsonataState>({
  name: 'jsonata',
  startState: () => ({ inComment: false }),
  token(stream, state) {
    if (state.inComment) return skipComment(stream, state);
    if (stream.eatSpace()) return null;
    if (stream.match('/*')) {
      state.inComment = true;
      return skipComment(stream, state);
    }
    const quote = stream.peek();
    if (quote === '"' || quote === "'") {
      stream.next();
      let escaped = false;
      for (let ch = stream.next(); ch !== undefined && ch !== null; ch = stream.next()) {
        if (ch === quote && !escaped) break;
        escaped = !escaped && ch === '\\';
      }
      return 'string';
    }
    if (quote === '`') {
      stream.next();
      stream.skipTo('`') ? stream.next() : stream.skipToEnd();
      return 'propertyName';
    }
    if (stream.match(/^\d+(\.\d+)?([eE][-+]?\d+)?/)) return 'number';
    if (stream.match(/^\$[\w$]*/)) return stream.peek() === '(' ? 'variableName.function' : 'variableName.special';
    if (stream.match(/^(and|or|in|true|false|null|function)\b/)) return /^(true|false|null)$/.test(stream.current()) ? 'atom' : 'keyword';
    if (stream.match(/^[A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*/)) return 'propertyName';
    if (stream.match(OPERATOR)) return 'operator';
    const ch = stream.next();
    return ch && '()[]{}'.includes(ch) ? 'bracket' : 'punctuation';
  },
  languageData: { commentTokens: { block: { open: '/*', close: '*/' } }, closeBrackets: { brackets: ['(', '[', '{', '"', "'", '`'] } },
});
