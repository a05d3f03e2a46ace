import type { CodegenConfig } from '@graphql-codegen/cli';

// Types come from the repository's schema; the generated folder is committed so a
// fresh clone builds without running codegen (`npm run codegen` after schema changes).
const config: CodegenConfig = {
  schema: '../graph/schema/*.graphqls',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { ID: { input: 'string', output: 'string' }, Time: 'string', Int64: 'number' },
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: false,
      },
    },
  },
};
export default config;
