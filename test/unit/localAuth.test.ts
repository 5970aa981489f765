import { strict as assert } from 'node:assert';
import { bearerMatches, generateToken, isLoopbackHost } from '../../runtime/localAuth';

describe('local auth: the token and loopback checks every server shares', () => {
  const token = generateToken();

  it('makes 32-byte hex tokens, different each time', () => {
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.notEqual(generateToken(), token);
  });

  it('accepts exactly "Bearer <token>" (scheme in any case, trailing space tolerated)', () => {
    for (const ok of [`Bearer ${token}`, `bearer ${token}`, `Bearer  ${token} `])
      assert.equal(bearerMatches(ok, token), true, ok);
  });

  it('refuses a missing, wrong, truncated, extended or differently-schemed token', () => {
    for (const bad of [
      undefined,
      '',
      token,
      `Basic ${token}`,
      `Bearer ${token.slice(1)}`,
      `Bearer ${token}x`,
      `Bearer ${token} extra`,
      `Bearer ${'0'.repeat(64)}`,
    ]) {
      assert.equal(bearerMatches(bad, token), false, String(bad));
    }
  });

  it('takes only loopback names as hosts, with or without a port', () => {
    for (const ok of ['127.0.0.1', '127.0.0.1:8080', 'localhost:1', 'LOCALHOST', '[::1]', '[::1]:9000', '::1'])
      assert.equal(isLoopbackHost(ok), true, ok);
    for (const bad of [
      undefined,
      '',
      'evil.example',
      'evil.example:8080',
      '127.0.0.1.evil.example',
      '10.0.0.1:80',
      '0.0.0.0',
      '[::2]:80',
      'localhost.evil:80',
    ]) {
      assert.equal(isLoopbackHost(bad), false, String(bad));
    }
  });
});
