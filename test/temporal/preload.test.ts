// The workflow bundle's modules are preloaded and shared by every workflow, which the SDK deep-freezes
// (src/workflows/preload.ts). This loads every one of them twice: one copy warmed and frozen exactly as the
// worker's reusable V8 context does it (the SDK's deepFreeze, copied below), one left alone. Every schema
// either copy exports must give the same answer to the same payloads, and zod must still build new schemas
// afterwards. Without the warm-up the frozen copy throws ("Cannot define property ..., object is not
// extensible") or binds methods to the wrong object.
import fc from 'fast-check';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../../src');

function moduleFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return moduleFiles(full);
    // preload.ts itself needs webpack's require.context: it is what this test stands in for.
    return name.endsWith('.ts') && name !== 'preload.ts' ? [full] : [];
  });
}
const FILES = [...moduleFiles(path.join(ROOT, 'workflows')), ...moduleFiles(path.join(ROOT, 'playbook'))];

/** The SDK's deepFreeze (@temporalio/worker lib/workflow/reusable-vm.js), as it freezes shared modules. */
function deepFreeze(object: unknown, visited = new WeakSet<object>()): unknown {
  if (object == null || (typeof object !== 'object' && typeof object !== 'function')) return object;
  if (visited.has(object)) return object;
  visited.add(object);
  if (Object.isFrozen(object)) return object;
  if (typeof object === 'object') {
    for (const name of [...Object.getOwnPropertyNames(object), ...Object.getOwnPropertySymbols(object)]) {
      const value = (object as Record<PropertyKey, unknown>)[name];
      if (value && (typeof value === 'object' || typeof value === 'function')) {
        try {
          deepFreeze(value, visited);
        } catch {
          // as the SDK: some objects cannot be frozen
        }
      }
    }
  }
  return Object.freeze(object);
}

type Schema = { safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: unknown[] } } };
interface World {
  modules: Map<string, Record<string, unknown>>;
  z: typeof import('zod').z;
}

// jest.isolateModules needs require(): each copy is a separate module registry.
/* eslint-disable @typescript-eslint/no-require-imports */
function load(frozen: boolean): World {
  let world: World | undefined;
  jest.isolateModules(() => {
    const zod = require('zod') as typeof import('zod');
    const modules = new Map(FILES.map((f) => [f, require(f) as Record<string, unknown>]));
    if (frozen) {
      const { warm } = require(
        path.join(ROOT, 'workflows/warm'),
      ) as typeof import('../../src/workflows/warm');
      for (const m of modules.values()) warm(m);
      deepFreeze(zod);
      for (const m of modules.values()) deepFreeze(m);
    }
    world = { modules, z: zod.z };
  });
  return world!;
}
/* eslint-enable @typescript-eslint/no-require-imports */

const isSchema = (v: unknown): v is Schema =>
  typeof v === 'object' &&
  v !== null &&
  '_zod' in v &&
  typeof (v as unknown as Schema).safeParse === 'function';

/** Every exported schema, by `<file>#<export>`. */
function schemas(world: World): Map<string, Schema> {
  const out = new Map<string, Schema>();
  for (const [file, m] of world.modules)
    for (const [name, v] of Object.entries(m)) {
      if (isSchema(v)) out.set(`${path.relative(ROOT, file)}#${name}`, v);
      // Tables of schemas (ACTION_SCHEMAS and the like).
      else if (v && typeof v === 'object' && !Array.isArray(v))
        for (const [k, inner] of Object.entries(v))
          if (isSchema(inner)) out.set(`${path.relative(ROOT, file)}#${name}.${k}`, inner);
    }
  return out;
}

/** What a parse answered, comparable across the two copies (errors by their issues). */
function answer(s: Schema, v: unknown): string {
  try {
    const r = s.safeParse(v);
    return JSON.stringify(r.success ? { ok: r.data } : { issues: r.error?.issues });
  } catch (err) {
    return `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
}

const PAYLOADS: unknown[] = [
  undefined,
  null,
  {},
  [],
  '',
  0,
  { by: 'alice' },
  { by: 'alice', note: 'on it', origin: { via: 'slack' } },
  { by: ' bob\u0000 ', text: 'x'.repeat(5000) },
  { by: 'carol', actionId: 'resume-1-abc', confirmationCode: 'CONFIRM_RESUME' },
  { by: 'dave', severity: 'P0', reason: 'losing money' },
  { by: 'erin', status: 'Investigating', impact: 'none', eta: '1h' },
  { by: 'frank', amountUsd: 1500 },
  { by: 'frank', amountUsd: -1 },
  { title: 'Trading API down', severity: 'P1', kind: 'trading-system-down', timeScale: 60 },
  { title: 'x', severity: 'P9' },
  { alert: { name: 'TradingAPIDown', fingerprint: 'f1', status: 'firing', labels: { service: 'api' } } },
  { alerts: [{ name: 'A', fingerprint: 'f', status: 'resolved' }] },
  { actionId: 'kill-1', escalation: 2 },
  { summary: 'done', actionItems: [{ title: 'fix', owner: 'eng-lead', dueDate: '2026-12-20' }] },
  // Payloads that reach regex and date-time checks (zod resets a pattern's lastIndex before each test).
  '2026-12-07',
  '2026-12-07T10:00:00Z',
  { documentUrl: 'https://docs.example/pm', by: 'eng-lead' },
  { role: 'oncall-primary', person: 'alice', from: '2026-12-07T10:00:00Z', to: '2026-12-08T10:00:00-05:00' },
  { holidays: ['2026-12-25', '2026-13-01'] },
  { id: 'AI-1', by: 'alice', resolvedAt: '2026-12-07T10:00:00Z' },
];

describe('preloaded workflow modules, frozen as the worker shares them', () => {
  const plain = load(false);
  const frozen = load(true);
  const plainSchemas = schemas(plain);
  const frozenSchemas = schemas(frozen);

  test('every module loads, and the frozen copy exports the same schemas', () => {
    expect(FILES.length).toBeGreaterThan(30);
    expect(frozenSchemas.size).toBeGreaterThan(20);
    expect([...frozenSchemas.keys()].sort()).toEqual([...plainSchemas.keys()].sort());
    const module = frozen.modules.get(path.join(ROOT, 'playbook/contract/incident.ts'))!;
    expect(Object.isFrozen(module.acknowledgeSchema)).toBe(true);
  });

  test('each schema answers known payloads as the unfrozen copy does', () => {
    const differences: string[] = [];
    for (const [name, s] of frozenSchemas)
      for (const payload of PAYLOADS) {
        const want = answer(plainSchemas.get(name)!, payload);
        const got = answer(s, payload);
        if (got !== want) differences.push(`${name} ${JSON.stringify(payload)}: ${got.slice(0, 200)}`);
      }
    expect(differences).toEqual([]);
  });

  test('each schema answers generated payloads as the unfrozen copy does', () => {
    const entries = [...frozenSchemas];
    fc.assert(
      fc.property(fc.nat(entries.length - 1), fc.jsonValue(), (i, payload) => {
        const [name, s] = entries[i]!;
        expect(answer(s, payload)).toBe(answer(plainSchemas.get(name)!, payload));
      }),
      { numRuns: 2000, seed: 20261207 },
    );
  });

  test('src/workflows/preload.ts loads every folder of the bundle (webpack contexts do not descend)', () => {
    const source = readFileSync(path.join(ROOT, 'workflows/preload.ts'), 'utf8');
    const listed = [...source.matchAll(/\.context\('([^']+)', false/g)].map((m) =>
      path.join(ROOT, 'workflows', m[1]!),
    );
    const folders = new Set(FILES.map((f) => path.dirname(f)));
    expect([...folders].sort()).toEqual([...new Set(listed)].sort());
  });

  test('zod still builds and parses new schemas after the freeze', () => {
    const { z } = frozen;
    const s = z.object({ n: z.number().int().min(0), tag: z.string().max(5).optional() });
    expect(s.safeParse({ n: 3, tag: 'ok' }).success).toBe(true);
    expect(s.safeParse({ n: -1 }).success).toBe(false);
    expect(z.string().trim().safeParse(' x ').data).toBe('x');
  });
});
