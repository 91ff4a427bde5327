import { describe, expect, it } from 'vitest';
import { compileJsonata, prepareTypedValue } from './expressions.ts';
import { envReader, evaluateEnv, substituteEnvProps } from './env.ts';
import type { ContextStore } from '../index.ts';

const none: ContextStore = { get: () => undefined, set: () => {}, keys: () => [] };
const env = envReader({ API_URL: 'https://api.dev.example', REGION: 'eu', EMPTY: '' });

describe('flow environment variables (Node-RED semantics)', () => {
  it('env typed value: NAME, ${NAME} and text around ${NAME}; unset reads ""', () => {
    expect(evaluateEnv('API_URL', env)).toBe('https://api.dev.example');
    expect(evaluateEnv('${REGION}', env)).toBe('eu');
    expect(evaluateEnv('${API_URL}/v1/${REGION}', env)).toBe('https://api.dev.example/v1/eu');
    expect(evaluateEnv('x-${MISSING}-y', env)).toBe('x--y');
    expect(evaluateEnv('MISSING', env)).toBe('');
    expect(evaluateEnv('API_URL')).toBe('');
  });

  it('$env() in JSONata and the env type of prepareTypedValue read the scopes\' reader', async () => {
    const scopes = { flow: none, global: none, env };
    expect(await compileJsonata('$env("REGION") & "-" & $env("NOPE")', scopes).evaluate({})).toBe('eu-');
    expect(await prepareTypedValue('${API_URL}', 'env', scopes).get({})).toBe('https://api.dev.example');
    expect(await compileJsonata('$env("REGION")', { flow: none, global: none }).evaluate({})).toBe('');
  });

  it('a property that is exactly ${NAME} or $(NAME) is replaced at any depth when set and not empty', () => {
    const props = { url: '${API_URL}', old: '$(REGION)', inText: 'a ${REGION}', empty: '${EMPTY}', unset: '${NOPE}', n: 3, nested: { list: ['${REGION}', 1] } };
    const out = substituteEnvProps(props, env);
    expect(out).toEqual({ url: 'https://api.dev.example', old: 'eu', inText: 'a ${REGION}', empty: '${EMPTY}', unset: '${NOPE}', n: 3, nested: { list: ['eu', 1] } });
    expect(props.url).toBe('${API_URL}');
  });
});
