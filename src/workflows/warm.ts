// Shared modules are deep-frozen by the SDK (src/workflows/preload.ts says why ours are shared). Two things
// about zod schemas make that freeze harmful unless they are prepared for it:
// - zod fills some members of a schema in on first use (bound methods, derived internals, the parse
//   function it settles on after the first parse); frozen before that, the first use throws;
// - the freeze reads every property it walks, including the member accessors zod installs on a schema
//   type's prototype (reached through `schema._zod.constr.prototype`), with the prototype itself as the
//   receiver: the accessor then binds the member to the prototype, and every schema of that type built
//   afterwards calls it on the wrong object.
// - zod resets `pattern.lastIndex` before every regex test; a frozen pattern makes that assignment throw.
// `warm` reads every lazily built member of every schema reachable from a module's exports (the freeze
// reaches nothing else), parses once, freezes the schema types' prototypes itself (which the SDK's freeze
// then skips), and first puts every pattern it reaches behind a proxy that cannot be frozen (the SDK's
// freeze tolerates objects that refuse it). test/temporal/preload.test.ts freezes every module as the SDK does and checks that
// each schema parses as before.

const isObject = (v: unknown): v is object =>
  v !== null && (typeof v === 'object' || typeof v === 'function');
const hasOwn = (o: object, key: PropertyKey) => Object.prototype.hasOwnProperty.call(o, key);
/** Values of every kind a schema's first parses should see. */
const SAMPLES: unknown[] = [undefined, null, {}, '', 0, []];

/** Prepares everything `value` reaches for the SDK's deep freeze. */
export function warm(value: unknown): void {
  shieldPatterns(value);
  warmAll(value);
}

/**
 * A regular expression that behaves as itself (methods run on the real one, `lastIndex` is its own) but
 * refuses to be frozen, so the shared copy stays usable by code that resets `lastIndex`.
 */
export function unfreezable(re: RegExp): RegExp {
  return new Proxy(re, {
    get(target, key) {
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' && key !== 'constructor' ? (v as () => unknown).bind(target) : v;
    },
    set: (target, key, v) => Reflect.set(target, key, v, target),
    preventExtensions: () => false,
  });
}

/** Replaces every regular expression held in a data property with its unfreezable stand-in. */
function shieldPatterns(value: unknown, seen: WeakSet<object> = new WeakSet()): void {
  if (!isObject(value) || seen.has(value) || Object.isFrozen(value) || value instanceof RegExp) return;
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) {
    const desc = Object.getOwnPropertyDescriptor(value, key);
    if (!desc) continue;
    if ('value' in desc) {
      if (desc.value instanceof RegExp && desc.writable && !Object.isFrozen(desc.value))
        (value as Record<PropertyKey, unknown>)[key] = unfreezable(desc.value);
      else shieldPatterns(desc.value, seen);
    } else if (desc.get && !isPrototype(value)) {
      try {
        shieldPatterns((value as Record<PropertyKey, unknown>)[key], seen);
      } catch {
        // an accessor that needs a context it does not have here
      }
    }
  }
}

/** A prototype's accessors are zod's members: read through the prototype they would bind to it. */
const isPrototype = (o: object) =>
  hasOwn(o, 'constructor') && (o as { constructor: unknown }).constructor !== Object;

function warmAll(value: unknown, seen: WeakSet<object> = new WeakSet()): void {
  if (!isObject(value) || seen.has(value) || Object.isFrozen(value)) return;
  seen.add(value);
  if (hasOwn(value, '_zod')) warmSchema(value as ZodLike, seen);
  for (const key of Reflect.ownKeys(value)) {
    let child: unknown;
    try {
      // As the freeze reads it: an own accessor (a module's export) through the object that holds it.
      child = (value as Record<PropertyKey, unknown>)[key];
    } catch {
      continue;
    }
    warmAll(child, seen);
  }
}

interface ZodLike {
  _zod: { constr?: { prototype?: object } };
  safeParse?: (v: unknown) => unknown;
}

function warmSchema(schema: ZodLike, seen: WeakSet<object>): void {
  const internals = schema._zod;
  for (const target of [schema, internals]) readAccessors(target, seen);
  if (typeof schema.safeParse === 'function')
    for (const sample of SAMPLES) {
      try {
        schema.safeParse(sample);
      } catch {
        // a refinement that throws on a sample: what matters is that the first parse happened
      }
    }
  // The type's prototypes, frozen here with their accessors untouched, are skipped by the SDK's freeze.
  for (
    let p = internals.constr?.prototype;
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p) as object
  )
    Object.freeze(p);
}

/** Reads every accessor of the prototype chain through `target`, which builds and keeps its value. */
function readAccessors(target: object, seen: WeakSet<object>): void {
  for (let proto = Object.getPrototypeOf(target); proto && proto !== Object.prototype;) {
    for (const key of Reflect.ownKeys(proto)) {
      if (!Object.getOwnPropertyDescriptor(proto, key)?.get) continue;
      try {
        warmAll((target as Record<PropertyKey, unknown>)[key], seen);
      } catch {
        // an accessor that needs a context it does not have here
      }
    }
    proto = Object.getPrototypeOf(proto);
  }
}
