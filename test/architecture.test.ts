// The layering of src/, read from the imports themselves (the TypeScript compiler's own pre-processor): no
// import circle anywhere (type-only imports count: a circle of types is a circle of meaning), src/playbook
// imports nothing from another src/ folder nor Temporal, and the ledger imports neither the workflows nor
// the activities. The eslint rule (eslint.config.mjs) says the same per import; circles need the whole graph.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** A relative specifier as the file it names (src-relative), a package as its name. */
function resolve(from: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const base = path.resolve(path.dirname(from), spec);
  const hit = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => fs.existsSync(c));
  if (!hit) throw new Error(`${path.relative(ROOT, from)}: cannot resolve import '${spec}'`);
  return path.relative(ROOT, hit);
}

function importGraph(): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    graph.set(
      path.relative(ROOT, file),
      info.importedFiles.map((f) => resolve(file, f.fileName)),
    );
  }
  return graph;
}

/** Every import circle, each as the path that closes it (a -> b -> a). */
function findCycles(graph: Graph): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (node: string): void => {
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next) || done.has(next)) continue;
      if (onStack.has(next)) cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else visit(next);
    }
    stack.pop();
    onStack.delete(node);
    done.add(node);
  };
  for (const node of graph.keys()) if (!done.has(node)) visit(node);
  return cycles;
}

const folderOf = (file: string): string | null => (file.startsWith('src/') ? file.split('/')[1]! : null);

/** Imports that point up: `from` imports what its layer may not. */
function forbidden(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const layer = folderOf(from);
    for (const to of targets) {
      const target = folderOf(to);
      const bad =
        (layer === 'playbook' &&
          ((target !== null && target !== 'playbook') || to.startsWith('@temporalio/'))) ||
        (layer === 'ledger' && (target === 'workflows' || target === 'activities'));
      if (bad) out.push(`${from} -> ${to}`);
    }
  }
  return out;
}

describe('architecture of src/', () => {
  const graph = importGraph();

  test('the graph is read (every module of src/ with its imports)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/workflows/definitions.ts')).toContain('src/playbook/contract/incident.ts');
  });

  test('the cycle finder finds a circle when there is one', () => {
    const g: Graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
  });

  test('no import circle', () => {
    expect(findCycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  test('src/playbook imports no other src/ folder and no Temporal; the ledger no workflows or activities', () => {
    expect(forbidden(graph)).toEqual([]);
  });
});
