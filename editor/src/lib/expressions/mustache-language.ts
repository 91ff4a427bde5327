/** A mustache highlighting mode for CodeMirror (kept apart from the parser, so the code editor loads without it). */
import { StreamLanguage } from '@codemirror/language';

interface MustacheState {
  inTag: boolean;
}

/** Text as it is; `{{ name }}` tags highlighted, sections (#, ^, /) and raw ({{{ }}}, &) marked. */
export const mustacheLanguage = StreamLanguage.define<MustacheState>({
  name: 'mustache',
  startState: () => ({ inTag: false }),
  token(stream, state) {
    if (!state.inTag) {
      if (stream.match('{{')) {
        state.inTag = true;
        stream.match(/^[{#^/&!>]?/);
        return 'bracket';
      }
      // Plain text up to the next tag.
      if (!stream.skipTo('{{')) stream.skipToEnd();
      return null;
    }
    if (stream.match(/^}?}}/)) {
      state.inTag = false;
      return 'bracket';
    }
    if (stream.eatSpace()) return null;
    if (stream.match(/^(flow|global)(\[\w+\])?\./)) return 'keyword';
    if (stream.match(/^[^\s}]+/)) return 'variableName';
    stream.next();
    return null;
  },
});
