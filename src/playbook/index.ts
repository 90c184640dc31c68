export * from './roles';
export * from './time';
export * from './severity';
export * from './decision-tree';
export * from './escalation';
export * from './postmortem';
export * from './policy';
export * from './templates';
