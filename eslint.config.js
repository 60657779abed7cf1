// Lint: typescript-eslint's recommended rules plus the house's layering (see STYLE.md, "Which way the arrows point").
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'node_modules/**', 'test-output/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/oci/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([{ group: ['../*', '!./*'], message: 'src/oci is pure spec: it imports nothing of ours.' }]),
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['fastify', 'fastify/*', '@fastify/*', 'kysely', 'pg', 'better-sqlite3', '@aws-sdk/*', 'node:fs', 'node:fs/*', 'fs', 'fs/*'], message: 'domain/ stays free of HTTP, SQL, cloud SDKs and the filesystem: use a port.' },
        { group: ['**/http/**', '**/jobs/**', '**/storage/**/*.js', '!**/storage/blob/port.js', '**/app.js', '**/cli/**'], message: 'domain/ depends only on oci/, its own ports and storage/blob/port.ts.' },
      ]),
    },
  },
  {
    files: ['src/storage/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([{ group: ['**/http/**', '**/jobs/**', '**/app.js', '**/cli/**', 'fastify', '@fastify/*'], message: 'storage/ implements domain ports and knows nothing of HTTP or jobs.' }]),
    },
  },
  {
    files: ['src/outbound/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([{ group: ['**/http/**', '**/jobs/**', '**/storage/**', '**/app.js', '**/cli/**', 'fastify', '@fastify/*', 'kysely'], message: 'outbound/ implements the domain\'s outbound HTTP port and knows nothing else.' }]),
    },
  },
  {
    files: ['src/http/**/*.ts', 'src/jobs/**/*.ts'],
    rules: {
      // not even storage/blob/port.ts or its buffer pool: what http/ needs of a blob (BlobBody) comes through the domain
      'no-restricted-imports': restrict([{ group: ['**/storage/**', 'kysely', 'pg', 'better-sqlite3', '@aws-sdk/*'], message: 'http/ and jobs/ call domain services, never storage directly.' }]),
    },
  },
);
