// @ts-check
import tseslint from 'typescript-eslint';

// Workflow and playbook code must stay deterministic: no Node built-ins, no I/O clients.
const deterministic = [
  {
    group: ['node:*'],
    message: 'Workflow and playbook code must stay deterministic: no Node built-ins.',
  },
];
const paths = [
  'fs',
  'path',
  'http',
  'https',
  'net',
  'child_process',
  'crypto',
  'os',
  'pg',
  'undici',
  'ioredis',
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
].map((name) => ({
  name,
  message: 'Workflow and playbook code must stay deterministic: no I/O clients or Node built-ins.',
}));
const activitiesAsTypes = {
  group: ['../activities', '../activities/*'],
  allowTypeImports: true,
  message: 'Import activities with `import type` only.',
};
/** src/playbook imports nothing above it; `leaving` matches a relative path out of src/playbook. */
const playbookFloor = (leaving) => [
  {
    group: ['@temporalio/*'],
    message: 'src/playbook is pure: no Temporal (the workflows bind its contract to Temporal messages).',
  },
  {
    regex: leaving,
    message: 'src/playbook is the lowest layer: it imports nothing from another src/ folder.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.temporal/**',
      'data/**',
      'coverage/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: no I/O, no Node built-ins, no activity implementations as values.
    files: ['src/workflows/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...deterministic, activitiesAsTypes], paths }] },
  },
  // The layers (README "Layout"): src/playbook is the floor (the contract and the pure rules), so it imports
  // nothing from another src/ folder and nothing from Temporal; the ledger sits below the workflows and the
  // activities that call it. Import circles are caught by test/architecture.test.ts.
  {
    files: ['src/playbook/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...deterministic, ...playbookFloor('^\\.\\./')], paths },
      ],
    },
  },
  {
    files: ['src/playbook/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...deterministic, ...playbookFloor('^\\.\\./\\.\\./')], paths },
      ],
    },
  },
  {
    files: ['src/ledger/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(workflows|activities)(/|$)',
              message: 'The ledger sits below the workflows and the activities: it imports neither.',
            },
          ],
        },
      ],
    },
  },
);
