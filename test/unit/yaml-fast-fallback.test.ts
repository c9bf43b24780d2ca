import { InputError } from '../../src/errors';
import { fastLoad, HANDED_OFF } from '../../src/catalog/yaml-fast';
import { YamlSource } from '../../src/catalog/yaml-source';

/** The outcome a reader gives: its data, or the exact messages it refuses the file with. */
function outcome(read: () => YamlSource): unknown {
  try {
    const source = read();
    return { data: source.data, root: source.locate([]) };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return { error: err.message };
  }
}

function readerOf(text: string): string {
  try {
    return YamlSource.parseFastFirst('f.yaml', text).reader;
  } catch {
    return 'refused';
  }
}

const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n') + '\n';

const cases: Array<[string, string, string]> = [
  // [what, text, the reader the file must take]
  ['an anchor and alias', 'a: &x [1, 2]\nb: *x\n', 'yaml'],
  ['an alias bomb', bomb, 'refused'],
  ['an explicit tag', 'a: !!str 12\n', 'yaml'],
  ['a local tag', 'a: !thing x\n', 'yaml'],
  ['a control character', 'a: "x\u0007y"\n', 'refused'],
  ['a control character as an escape', 'a: "x\\x07y"\n', 'refused'],
  ['a bidi override', 'name: ab\u202ecd\n', 'refused'],
  ['a bidi override as an escape', 'name: "ab\\u202Ecd"\n', 'refused'],
  ['a zero-width space in a comment', '# a\u200bb\nname: x\n', 'yaml'],
  ['a line break outside free text', 'name: "a\\nb"\n', 'refused'],
  ['a line break in a key', '"a\\nb": 1\n', 'refused'],
  ['a line break in free text', 'description: |\n  one\n  two\n', 'fast'],
  ['a duplicate key', 'a: 1\na: 2\n', 'refused'],
  ['a tab in indentation', 'a:\n\tb: 1\n', 'refused'],
  ['a tab as separator', 'a:\tb\n', 'yaml'],
  ['a byte order mark', '\ufeffa: 1\n', 'yaml'],
  ['CRLF line ends', 'a: 1\r\nb:\r\n  - x\r\n', 'fast'],
  ['a lone CR', 'a: 1\rb: 2\n', 'refused'],
  ['a document start marker', '---\na: 1\n', 'fast'],
  ['a document end marker', 'a: 1\n...\n', 'yaml'],
  ['a document start marker glued to a comment', '---#x: y\na: 1\n', 'yaml'],
  ['a document end marker glued to text', 'a: 1\n...b\n', 'refused'],
  ['a comment glued to a comma in a flow sequence', 'a: [one,#x\n  two]\n', 'refused'],
  ['an empty explicit key in a flow sequence', 'a: [one,\n  ?\n  ]\n', 'yaml'],
  ['an explicit key in a block mapping', '? a\n: 1\n', 'fast'],
  ['a flow mapping as an explicit key in a flow sequence', 'a: [? {z: 1}]\n', 'yaml'],
  ['a block sequence as an explicit key', '? - a\n: 1\n', 'yaml'],
  ['a directive', '%YAML 1.2\n---\na: 1\n', 'yaml'],
  ['a YAML 1.1 directive', '%YAML 1.1\n---\na: yes\n', 'yaml'],
  ['two documents', 'a: 1\n---\nb: 2\n', 'refused'],
  ['an empty file', '', 'yaml'],
  ['only a comment', '# nothing\n', 'yaml'],
  ['a scalar document', 'hello\n', 'yaml'],
  ['a null key', '~: 1\n', 'yaml'],
  ['a collection as a key', '? [a, b]\n: 1\n', 'yaml'],
  ['a key without a value in a flow mapping', '{a, b: 1}\n', 'yaml'],
  ['a null item in a block sequence', '- x\n-\n- y\n', 'yaml'],
  ['a key longer than 1024 characters', `${'k'.repeat(1100)}: 1\n`, 'refused'],
  // A key whose text is longer than its name, with nothing after the colon.
  ['a long escaped key without a value', `a: 1\n"${'\\x41'.repeat(300)}":\n`, 'refused'],
  ['a long single-quoted key without a value', `- '${"x''".repeat(400)}':\n`, 'refused'],
  ['a key padded past the limit without a value', `a${' '.repeat(1100)}:\n`, 'refused'],
  ['a short key without a value on a long line', `a: 1\nb: # ${'c'.repeat(1100)}\n`, 'yaml'],
  ['an under-indented flow sequence', 'a:\n  b: [x,\n  y]\n', 'refused'],
  ['an under-indented quoted scalar', 'a: "x\ny"\n', 'refused'],
  ['a well-indented multi-line flow sequence', 'a:\n  b: [\n    x,\n  ]\n', 'fast'],
  ['a flow sequence closed at its block indent', 'a: [\n  x\n]\n', 'fast'],
  ['a block mapping on the document start line', '--- a: 1\n', 'refused'],
  ['a block sequence on the document start line', '--- - x\n', 'refused'],
  ['a \\U escape past the last code point', 'a: "\\U00110000"\n', 'refused'],
  ['a \\U escape in range', 'a: "\\U0001F600"\n', 'yaml'],
  ['an escaped line break before an empty line', 'a: "x\\\n\n  y"\n', 'yaml'],
  ['a spaces-only line opening a block scalar', 'a: |\n   \n # c\n', 'refused'],
  ['a spaces-only line under an indentation indicator', 'a: |2-\n   \n', 'yaml'],
  ['text after a multi-line flow sequence', 'a: [\n] b: 1\n', 'refused'],
  ['text after a multi-line flow mapping', 'x:\n  a: {\n  } b: 1\n', 'refused'],
  ['a null explicit key in a flow sequence', 'a: [? ~]\n', 'yaml'],
  ['a quoted scalar continued by a closing bracket at the block indent', 'a: "x\n]y"\n', 'refused'],
  ['a nested flow sequence closed at the block indent', 'a: {b: [\n  x\n]\n}\n', 'refused'],
  ['two flow collections closed on one line at the block indent', 'a: {t: [x,\n]}\n', 'refused'],
  ['a comment right after a flow sequence', 'a: []#x\n', 'refused'],
  ['a comment right after a quoted scalar', 'a: "x"#y\nb: {c: 1}#z\n', 'refused'],
  ['a hash inside a plain scalar', 'a: x#y\n', 'fast'],
  ['a merge key', 'a: {x: 1}\nb:\n  <<: {y: 2}\n', 'fast'],
  ['a timestamp', 'a: 2001-12-14\n', 'fast'],
  ['numbers in every core form', 'a: [0o17, 0x1F, 010, 1_000, .inf, -.Inf, .nan, 1e3, 1., +5, -0]\n', 'fast'],
];

describe('when the fast reader steps aside', () => {
  it.each(cases)('%s', (_what, text, reader) => {
    expect(readerOf(text)).toBe(reader);
    // Whatever the reader, the outcome is the yaml package's, to the byte of every message.
    expect(outcome(() => YamlSource.parseFastFirst('f.yaml', text))).toEqual(outcome(() => YamlSource.parseWithYaml('f.yaml', text)));
  });

  it('still refuses an alias bomb with the same message as before', () => {
    expect(outcome(() => YamlSource.parseFastFirst('f.yaml', bomb))).toEqual({
      error: expect.stringMatching(/^f\.yaml:2:\d+: \(document\): YAML: aliases expand to too many values/),
    });
  });
});

describe('the fast reader implements no more than it must', () => {
  // The constructs the listener hands off, each by a case above (what it is named by there).
  const listenerHandsOff: Array<[string, string]> = [
    ['an anchor', 'an anchor and alias'],
    ['a tag', 'an explicit tag'],
    ['a local tag', 'a local tag'],
    ['a comment glued to a closing bracket or quote', 'a comment right after a flow sequence'],
    ['a spaces-only line in a block scalar', 'a spaces-only line opening a block scalar'],
    ['text after a multi-line flow collection', 'text after a multi-line flow sequence'],
    ['an under-indented continuation', 'an under-indented quoted scalar'],
    ['a key past the length the yaml package reads', 'a key longer than 1024 characters'],
    ['a control character made by an escape', 'a control character as an escape'],
  ];

  it.each(Object.entries(HANDED_OFF))('hands off every text of the shape "%s", and a case above holds one', (_name, pattern) => {
    const held = cases.filter(([, text]) => pattern.test(text));
    expect(held.length).toBeGreaterThan(0);
    for (const [what, text, reader] of held) {
      expect(fastLoad(text)).toBeUndefined();
      expect([what, reader]).not.toEqual([what, 'fast']);
    }
  });

  it.each(listenerHandsOff)('hands off %s (case: %s)', (_construct, name) => {
    const found = cases.find(([what]) => what === name);
    expect(found).toBeDefined();
    expect(fastLoad(found![1])).toBeUndefined();
    expect(found![2]).not.toBe('fast');
  });
});

describe('errors on a file the fast reader took', () => {
  const text = 'vendors:\n  acme:\n    include: [web, mail]\nflows:\n  - id: a\n    port: 80\n';

  it('take their position from the yaml package, as any other position agrees with it', () => {
    const fast = YamlSource.parseFastFirst('f.yaml', text);
    const ref = YamlSource.parseWithYaml('f.yaml', text);
    expect(fast.reader).toBe('fast');
    for (const [p, key] of [[['flows', 0, 'port'], false], [['vendors', 'acme'], true], [['flows', 0, 'missing'], false], [['nope'], true]] as const) {
      expect(fast.issue([...p], 'bad', key)).toEqual(ref.issue([...p], 'bad', key));
      expect(fast.locate([...p], key)).toEqual(ref.locate([...p], key));
    }
  });
});

describe('FWGEN_YAML=reference', () => {
  test('reads every file with the yaml package; the fast reader is still there to compare', () => {
    const saved = process.env.FWGEN_YAML;
    process.env.FWGEN_YAML = 'reference';
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { YamlSource: Reference } = require('../../src/catalog/yaml-source') as typeof import('../../src/catalog/yaml-source');
        expect(Reference.parse('f.yaml', 'a: 1\n').reader).toBe('yaml');
        expect(Reference.parseFastFirst('f.yaml', 'a: 1\n').reader).toBe('fast');
      });
    } finally {
      if (saved === undefined) delete process.env.FWGEN_YAML;
      else process.env.FWGEN_YAML = saved;
    }
  });
});
