// Expands a VS Code snippet body the way the editor first shows it: every
// placeholder with its default, a choice with its first option, a bare
// tabstop with the default its placeholder has elsewhere (else nothing),
// $0 as nothing, and the date variables with today's date.
// Grammar: https://code.visualstudio.com/docs/editor/userdefinedsnippets#_grammar

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'tabstop'; index: number; children?: Node[] }
  | { kind: 'choice'; index: number; options: string[] }
  | { kind: 'variable'; name: string; children?: Node[] };

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): Node[] {
    const nodes = this.sequence(false);
    if (this.pos < this.src.length) throw new Error(`unexpected "${this.src[this.pos]}" at ${this.pos}`);
    return nodes;
  }

  private sequence(inPlaceholder: boolean): Node[] {
    const nodes: Node[] = [];
    let text = '';
    const flush = (): void => {
      if (text) nodes.push({ kind: 'text', text });
      text = '';
    };
    while (this.pos < this.src.length) {
      const c = this.src[this.pos] ?? '';
      if (c === '\\') {
        const next = this.src[this.pos + 1];
        if (next === '$' || next === '}' || next === '\\') {
          text += next;
          this.pos += 2;
        } else {
          text += c;
          this.pos++;
        }
      } else if (c === '}' && inPlaceholder) {
        break;
      } else if (c === '$') {
        const node = this.dollar();
        if (node) {
          flush();
          nodes.push(node);
        } else {
          text += '$';
          this.pos++;
        }
      } else {
        text += c;
        this.pos++;
      }
    }
    flush();
    return nodes;
  }

  private dollar(): Node | undefined {
    const rest = this.src.slice(this.pos);
    let m = /^\$(\d+)/.exec(rest);
    if (m) {
      this.pos += m[0].length;
      return { kind: 'tabstop', index: Number(m[1]) };
    }
    m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (m) {
      this.pos += m[0].length;
      return { kind: 'variable', name: m[1] ?? '' };
    }
    m = /^\$\{(\d+)\}/.exec(rest);
    if (m) {
      this.pos += m[0].length;
      return { kind: 'tabstop', index: Number(m[1]) };
    }
    m = /^\$\{(\d+)\|((?:[^|\\]|\\.)*)\|\}/.exec(rest);
    if (m) {
      this.pos += m[0].length;
      const options = (m[2] ?? '').split(/(?<!\\),/).map((o) => o.replace(/\\(.)/g, '$1'));
      return { kind: 'choice', index: Number(m[1]), options };
    }
    m = /^\$\{(\d+):/.exec(rest);
    if (m) {
      this.pos += m[0].length;
      const children = this.sequence(true);
      this.expect('}');
      return { kind: 'tabstop', index: Number(m[1]), children };
    }
    m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(:|\})/.exec(rest);
    if (m) {
      this.pos += m[0].length;
      if (m[2] === '}') return { kind: 'variable', name: m[1] ?? '' };
      const children = this.sequence(true);
      this.expect('}');
      return { kind: 'variable', name: m[1] ?? '', children };
    }
    return undefined;
  }

  private expect(c: string): void {
    if (this.src[this.pos] !== c) throw new Error(`expected "${c}" at ${this.pos} in ${JSON.stringify(this.src)}`);
    this.pos++;
  }
}

function variable(name: string, today: Date): string | undefined {
  const pad = (n: number): string => String(n).padStart(2, '0');
  switch (name) {
    case 'CURRENT_YEAR':
      return String(today.getFullYear());
    case 'CURRENT_MONTH':
      return pad(today.getMonth() + 1);
    case 'CURRENT_DATE':
      return pad(today.getDate());
    default:
      return undefined;
  }
}

export function expandSnippet(body: string | string[], today: Date = new Date()): string {
  const text = Array.isArray(body) ? body.join('\n') : body;
  const nodes = new Parser(text).parse();
  const defaults = new Map<number, Node[]>();
  const collect = (ns: Node[]): void => {
    for (const n of ns) {
      if (n.kind === 'tabstop' && n.children && !defaults.has(n.index)) defaults.set(n.index, n.children);
      if ((n.kind === 'tabstop' || n.kind === 'variable') && n.children) collect(n.children);
    }
  };
  collect(nodes);
  const render = (ns: Node[], depth: number): string =>
    ns
      .map((n) => {
        if (depth > 20) throw new Error('snippet placeholders refer to each other in a loop');
        switch (n.kind) {
          case 'text':
            return n.text;
          case 'choice':
            return n.options[0] ?? '';
          case 'variable':
            return variable(n.name, today) ?? (n.children ? render(n.children, depth + 1) : '');
          case 'tabstop': {
            if (n.index === 0) return '';
            const children = n.children ?? defaults.get(n.index);
            return children ? render(children, depth + 1) : '';
          }
        }
      })
      .join('');
  // The editor indents with the user's setting; two spaces here.
  return render(nodes, 0).replace(/\t/g, '  ');
}
