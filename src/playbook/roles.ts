// 2.1 Primary contacts: the role ids operators type (DESIGN.md public contract).
export const ROLE_IDS = [
  'oncall-primary',
  'oncall-secondary',
  'eng-lead',
  'trading-lead',
  'ml-lead',
  'cto',
  'team-lead',
] as const;
export type RoleId = (typeof ROLE_IDS)[number];

export interface RoleInfo {
  id: RoleId;
  name: string;
  /** 2.1 "Hours" column, as written in the playbook. */
  hours: string;
  email: string;
  slack: string;
}

// 2.1 table. Names and phone numbers are placeholders in the playbook; the deployment config supplies them.
export const ROLES: Record<RoleId, RoleInfo> = {
  'oncall-primary': {
    id: 'oncall-primary',
    name: 'On-Call Primary',
    hours: '24/7',
    email: 'oncall-primary@company.com',
    slack: '@oncall-primary',
  },
  'oncall-secondary': {
    id: 'oncall-secondary',
    name: 'On-Call Secondary',
    hours: '24/7',
    email: 'oncall-secondary@company.com',
    slack: '@oncall-secondary',
  },
  'eng-lead': {
    id: 'eng-lead',
    name: 'Engineering Lead',
    hours: '9-18 COT',
    email: 'eng-lead@company.com',
    slack: '@eng-lead',
  },
  'trading-lead': {
    id: 'trading-lead',
    name: 'Trading Lead',
    hours: '8-17 COT',
    email: 'trading-lead@company.com',
    slack: '@trading-lead',
  },
  'ml-lead': {
    id: 'ml-lead',
    name: 'ML Lead',
    hours: '9-18 COT',
    email: 'ml-lead@company.com',
    slack: '@ml-lead',
  },
  cto: { id: 'cto', name: 'CTO', hours: 'Emergency Only', email: 'cto@company.com', slack: '@cto' },
  // 2.3 names a "Team Lead" for P3 that 2.1 does not list; the deployment config says who it is.
  'team-lead': {
    id: 'team-lead',
    name: 'Team Lead',
    hours: '9-18 COT',
    email: 'team-lead@company.com',
    slack: '@team-lead',
  },
};

export function isRoleId(value: string): value is RoleId {
  return (ROLE_IDS as readonly string[]).includes(value);
}
