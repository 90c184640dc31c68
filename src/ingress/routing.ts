// Routing rules: normalized alert -> incident kind, playbook severity and dedup key.
// The rules live in YAML (config/alert-routes.yaml), validated with zod; a bad file fails start-up with
// the file name and the offending path.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../playbook/severity';
import { INCIDENT_KINDS, type Alert, type IncidentKind } from '../playbook/contract/incident';
import { ellipsize, sliceText } from './text';

const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Prometheus label name');
const reason = z.string().trim().min(3, 'every rule says why (reason)');

const ruleSchema = z
  .object({
    /** Exact alert name. */
    alert: z.string().min(1).optional(),
    /** Regular expression matched against the whole alert name. */
    alertRegex: z.string().min(1).optional(),
    /** Extra label equality matchers. */
    labels: z.record(labelName, z.string()).optional(),
    action: z.enum(['incident', 'ignore']).default('incident'),
    kind: z.enum(INCIDENT_KINDS).optional(),
    severity: z.enum(SEVERITIES).optional(),
    /** Overrides defaults.groupBy for this rule. */
    groupBy: z.array(labelName).optional(),
    /** Incident title; default: the alert name and summary. */
    title: z.string().min(1).max(200).optional(),
    reason,
  })
  .strict()
  .superRefine((r, ctx) => {
    if (!r.alert && !r.alertRegex)
      ctx.addIssue({ code: 'custom', path: ['alert'], message: 'a rule needs `alert` or `alertRegex`' });
    if (r.alertRegex) {
      try {
        new RegExp(r.alertRegex);
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['alertRegex'],
          message: `invalid regular expression: ${(e as Error).message}`,
        });
      }
    }
    if (r.action === 'incident' && (!r.kind || !r.severity)) {
      ctx.addIssue({
        code: 'custom',
        path: [r.kind ? 'severity' : 'kind'],
        message: 'an incident rule needs `kind` and `severity`',
      });
    }
  });

const severityTarget = z.union([z.enum(SEVERITIES), z.literal('ignore')]);

export const routingRulesSchema = z
  .object({
    version: z.literal(1),
    defaults: z
      .object({
        /** Labels that, beside the kind, make the dedup key: one incident per kind and service. */
        groupBy: z.array(labelName).default(['service', 'job']),
        /**
         * Rules of kind `generic` (no procedure: disks, memory, CPU) group as Alertmanager users expect: per
         * alert and per instance, so every host's disk alert is its own incident.
         */
        genericGroupBy: z.array(labelName).default(['alertname', 'instance', 'service', 'job']),
        /** Unknown alerts: their `severity` label -> playbook severity (or ignore). */
        unknownAlerts: z
          .object({
            kind: z.enum(INCIDENT_KINDS).default('generic'),
            groupBy: z.array(labelName).default(['alertname', 'instance', 'service', 'job']),
            severityBySeverityLabel: z
              .record(z.string(), severityTarget)
              .default({ critical: 'P1', warning: 'P2', info: 'P3', none: 'ignore' }),
            /** No severity label, or one not listed above. */
            fallbackSeverity: z.enum(SEVERITIES).default('P2'),
            reason: reason.default(
              'no routing rule names this alert: generic incident classified by its severity label',
            ),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    rules: z.array(ruleSchema).default([]),
  })
  .strict();

export type RoutingRules = z.output<typeof routingRulesSchema>;
export type RoutingRule = RoutingRules['rules'][number];

export class RoutingRulesError extends Error {
  override name = 'RoutingRulesError';
}

export function parseRoutingRules(text: string, origin = 'routing rules'): RoutingRules {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new RoutingRulesError(`${origin}: not valid YAML: ${(e as Error).message}`);
  }
  const parsed = routingRulesSchema.safeParse(doc);
  if (!parsed.success) {
    const lines = parsed.error.issues
      .slice(0, 20)
      .map((i) => `  ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new RoutingRulesError(`${origin}: invalid routing rules:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function loadRoutingRules(file: string): RoutingRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RoutingRulesError(`cannot read routing rules ${file}: ${(e as Error).message}`);
  }
  return parseRoutingRules(text, file);
}

export type RouteDecision =
  | { action: 'ignore'; reason: string; rule: string }
  | {
      action: 'incident';
      kind: IncidentKind;
      severity: Severity;
      dedupKey: string;
      workflowId: string;
      title: string;
      reason: string;
      /** Which rule decided: the alert name, the regex, or `unknown-alert`. */
      rule: string;
    };

/** Compiled rules: exact names in a map, the rest scanned in order. First match wins. */
export class Router {
  private readonly compiled: { rule: RoutingRule; re: RegExp | null }[];
  constructor(readonly rules: RoutingRules) {
    this.compiled = rules.rules.map((rule) => ({
      rule,
      re: rule.alertRegex ? new RegExp(`^(?:${rule.alertRegex})$`) : null,
    }));
  }

  route(alert: Alert): RouteDecision {
    const labels = alert.labels ?? {};
    for (const { rule, re } of this.compiled) {
      if (rule.alert !== undefined && rule.alert !== alert.name) continue;
      if (re && !re.test(alert.name)) continue;
      if (rule.labels && !Object.entries(rule.labels).every(([k, v]) => labels[k] === v)) continue;
      const ruleName = rule.alert ?? `/${rule.alertRegex ?? ''}/`;
      if (rule.action === 'ignore' || !rule.kind || !rule.severity)
        return { action: 'ignore', reason: rule.reason, rule: ruleName };
      const groupBy =
        rule.groupBy ??
        (rule.kind === 'generic' ? this.rules.defaults.genericGroupBy : this.rules.defaults.groupBy);
      return this.decide(alert, rule.kind, rule.severity, groupBy, rule.reason, ruleName, rule.title);
    }
    const u = this.rules.defaults.unknownAlerts;
    const label = (alert.labels?.severity ?? '').toLowerCase();
    const target = Object.prototype.hasOwnProperty.call(u.severityBySeverityLabel, label)
      ? u.severityBySeverityLabel[label]
      : undefined;
    if (target === 'ignore')
      return {
        action: 'ignore',
        reason: `unknown alert with severity label "${label}"`,
        rule: 'unknown-alert',
      };
    return this.decide(
      alert,
      u.kind,
      target ?? u.fallbackSeverity,
      u.groupBy,
      u.reason,
      'unknown-alert',
      undefined,
    );
  }

  private decide(
    alert: Alert,
    kind: IncidentKind,
    severity: Severity,
    groupBy: readonly string[],
    reason: string,
    rule: string,
    title: string | undefined,
  ): RouteDecision {
    const dedupKey = dedupKeyFor(kind, alert, groupBy);
    return {
      action: 'incident',
      kind,
      severity,
      dedupKey,
      workflowId: workflowIdFor(kind, dedupKey),
      title: incidentTitle(alert, title),
      reason,
      rule,
    };
  }
}

/**
 * The dedup key: the kind plus the grouping labels the alert carries (`trading-system-down|service=trading-api`).
 * `alertname` is read from the alert name, so it works for every source.
 */
export function dedupKeyFor(kind: IncidentKind, alert: Alert, groupBy: readonly string[]): string {
  const parts: string[] = [kind];
  for (const name of groupBy) {
    const value = name === 'alertname' ? alert.name : alert.labels?.[name];
    if (value !== undefined && value !== '') parts.push(`${name}=${value}`);
  }
  const key = parts.join('|');
  // The contract bounds source.dedupKey to 500 characters; a longer key keeps its head and a hash of the whole.
  return key.length <= 500
    ? key
    : `${sliceText(key, 400)}|#${createHash('sha256').update(key).digest('hex')}`;
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** DESIGN: `incident-<kind>-<hash of dedup key>`: the same key finds the same running incident. */
export function workflowIdFor(kind: IncidentKind, dedupKey: string): string {
  return `incident-${kind}-${shortHash(dedupKey)}`;
}

function incidentTitle(alert: Alert, ruleTitle: string | undefined): string {
  const where = alert.labels?.service ?? alert.labels?.job;
  const head = ruleTitle ?? alert.name;
  const summary = ruleTitle ? undefined : alert.summary;
  const title = `${head}${where ? ` (${where})` : ''}${summary ? `: ${summary}` : ''}`;
  return ellipsize(title, 500);
}
