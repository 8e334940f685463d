import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTrustedIssuers, parseTrustedIssuers } from '../../src/auth/trusted-issuers';
import { PROJECT_ROOT } from '../support/catalog';
import { writeIssuerFile } from '../support/jwt';

const EC_KEY = { kty: 'EC', crv: 'P-384', kid: 'k1', x: 'dw_JGR8nB2I6XveNxUOl2qk699ZPLM2nYI5STSdiEl9avAkrm3CkfYMbrrjr8laX', y: 'Sm3mLE-n1zYNla_aiE3cb3nZsL51RbC7ysw3q8aJLxGm-hx79RPMYpITDjp7kgzy', alg: 'ES384' };
const dev = { production: false };

describe('CDS_TRUSTED_ISSUERS file', () => {
  test('jwks_uri and inline entries, with tenants, are normalized for the verifier', () => {
    const issuers = parseTrustedIssuers(
      [
        { iss: 'https://ehr.example.org', jwks_uri: 'https://EHR.example.org/.well-known/jwks.json', tenants: ['a', 'b'] },
        { iss: 'https://other.example.org', jwks: { keys: [EC_KEY] }, description: 'pinned keys' },
      ],
      'test',
      dev,
    );
    expect(issuers).toEqual([
      { iss: 'https://ehr.example.org', jwksUri: 'https://ehr.example.org/.well-known/jwks.json', jwks: undefined, tenants: new Set(['a', 'b']) },
      { iss: 'https://other.example.org', jwksUri: undefined, jwks: { keys: [EC_KEY] }, tenants: undefined },
    ]);
  });

  test.each([
    ['an empty list', [], /invalid trusted issuer list/],
    ['an entry with neither jwks_uri nor jwks', [{ iss: 'https://a.org' }], /invalid trusted issuer list/],
    ['a misspelt field (would silently drop a check)', [{ iss: 'https://a.org', jwks_uri: 'https://a.org/jwks', tenant: ['x'] }], /tenant is not an allowed field/],
    ['a plain-http jwks_uri', [{ iss: 'https://a.org', jwks_uri: 'http://a.org/jwks' }], /jwks_uri must use https/],
    ['the same issuer twice', [{ iss: 'https://a.org', jwks_uri: 'https://a.org/jwks' }, { iss: 'https://a.org', jwks: { keys: [EC_KEY] } }], /issuer listed twice/],
    ['a private key pasted in', [{ iss: 'https://a.org', jwks: { keys: [{ ...EC_KEY, d: 'secret' }] } }], /private key material \(d\)/],
    ['a symmetric key', [{ iss: 'https://a.org', jwks: { keys: [{ kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] } }], /invalid trusted issuer list/],
    ['a key without kid', [{ iss: 'https://a.org', jwks: { keys: [{ kty: 'EC', crv: 'P-384', x: 'a', y: 'b' }] } }], /kid is required/],
    ['an HMAC alg on a key', [{ iss: 'https://a.org', jwks: { keys: [{ ...EC_KEY, alg: 'HS256' }] } }], /invalid trusted issuer list/],
    ['a duplicate kid', [{ iss: 'https://a.org', jwks: { keys: [EC_KEY, EC_KEY] } }], /kid k1 appears twice/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => parseTrustedIssuers(value, 'issuers.json', dev)).toThrow(message);
  });

  test('a loopback http jwks_uri is allowed (a sidecar on the same host)', () => {
    expect(parseTrustedIssuers([{ iss: 'x', jwks_uri: 'http://127.0.0.1:9000/jwks' }], 'test', dev)[0]!.jwksUri).toBe('http://127.0.0.1:9000/jwks');
  });

  test('an unreadable or non-JSON file stops start-up, naming the file', () => {
    expect(() => loadTrustedIssuers('/nonexistent/issuers.json', dev)).toThrow('[auth] CDS_TRUSTED_ISSUERS: cannot read /nonexistent/issuers.json: ENOENT');
    const path = writeIssuerFile([]).replace(/trusted-issuers\.json$/, 'bad.json');
    writeFileSync(path, '[{');
    expect(() => loadTrustedIssuers(path, dev)).toThrow(`[auth] ${path}: not valid JSON`);
  });

  describe('the public CDS Hooks sandbox (its private key is published)', () => {
    const sandboxFile = resolve(PROJECT_ROOT, 'config/trusted-issuers.sandbox-dev.json');

    test('the shipped development file loads outside production', () => {
      const [sandbox] = loadTrustedIssuers(sandboxFile, dev);
      expect(sandbox).toMatchObject({ iss: 'https://sandbox.cds-hooks.org', jwksUri: 'https://sandbox.cds-hooks.org/.well-known/jwks.json' });
      expect(sandbox!.jwks!.keys[0]).toMatchObject({ kid: '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f', alg: 'ES384' });
    });

    test('is refused with NODE_ENV=production, by issuer or by its published key', () => {
      expect(() => loadTrustedIssuers(sandboxFile, { production: true })).toThrow(/public CDS Hooks sandbox.*refused with NODE_ENV=production/);
      const key = JSON.parse(readFileSync(sandboxFile, 'utf8'))[0].jwks.keys[0];
      expect(() => parseTrustedIssuers([{ iss: 'https://renamed.example', jwks: { keys: [key] } }], 'x', { production: true })).toThrow(/public CDS Hooks sandbox/);
      expect(() => parseTrustedIssuers([{ iss: 'https://sandbox.cds-hooks.org/', jwks_uri: 'https://sandbox.cds-hooks.org/.well-known/jwks.json' }], 'x', { production: true })).toThrow(/public CDS Hooks sandbox/);
    });
  });
});
