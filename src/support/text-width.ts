// Stands in for string-width in the bundle: help text is ASCII, and the real module builds an
// Intl.Segmenter and large Unicode regexes at load, which costs every run tens of milliseconds.
// eslint-disable-next-line no-control-regex -- ANSI colour codes start with ESC
const ANSI = /\u001b\[[0-9;]*m/g;

export default function textWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}
