/**
 * Go template spelling → Handlebars: `{{ .X }}` → `{{ X }}`, trim markers `{{- ` / ` -}}` → `~`.
 * Quoted strings are copied untouched, so `{{ .Env "A.B" }}` keeps its dot.
 */
export function translateGoTemplate(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) return out + src.slice(i);
    out += src.slice(i, open) + '{{';
    i = open + 2;
    let body = '';
    if (src[i] === '-' && isSpace(src[i + 1])) {
      body = '~';
      i++;
    }
    let closed = false;
    while (i < src.length) {
      const c = src[i] ?? '';
      if (c === '"' || c === "'") {
        const end = stringEnd(src, i);
        body += src.slice(i, end);
        i = end;
      } else if (c === '}' && src[i + 1] === '}') {
        closed = true;
        break;
      } else if (c === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '') && /^$|[\s(~{&]$/.test(body.slice(-1))) {
        i++; // a Go field reference: drop its leading dot
      } else {
        body += c;
        i++;
      }
    }
    if (!closed) return out + body; // Handlebars reports the unclosed action
    if (/\s-$/.test(body)) body = body.slice(0, -1) + '~';
    out += body + '}}';
    i += 2;
  }
  return out;
}

function isSpace(c: string | undefined): boolean {
  return c !== undefined && /\s/.test(c);
}

function stringEnd(src: string, start: number): number {
  const quote = src[start];
  for (let j = start + 1; j < src.length; j++) {
    if (src[j] === '\\') j++;
    else if (src[j] === quote) return j + 1;
  }
  return src.length;
}
