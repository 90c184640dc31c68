// 3.3 step 2 "Check TwelveData status": the provider's public status page (statuspage.io JSON), when the
// deployment config names one.
import type { CheckFinding } from './finding';
import type { PlatformContext } from './context';
import { notOk } from './http';
import { statusPageBody } from './schemas';

export function createDataProviderChecks({ cfg, http }: PlatformContext) {
  const { httpJson } = http;
  return {
    /** 3.3 step 2 "Check TwelveData status" (statuspage JSON), when configured. */
    async checkDataProviderStatus(): Promise<CheckFinding<{ indicator: string | null }>> {
      const p = cfg.dataProvider;
      if (!p)
        return {
          check: 'data-provider',
          outcome: 'unavailable',
          text: 'data provider status page: not configured',
          data: { indicator: null },
        };
      const out = await httpJson(p.statusUrl, statusPageBody);
      if (out.kind !== 'ok') return notOk('data-provider', `${p.name} status page`, out, { indicator: null });
      const s = out.body.status;
      return {
        check: 'data-provider',
        outcome: 'answered',
        text: `${p.name} status: ${s.description ?? s.indicator}`,
        data: { indicator: s.indicator },
      };
    },
  };
}
